package org.euterpe.kernels.cpu;

import java.util.List;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/** Placeholder: being written. */
final class VectorOps {
    private VectorOps() {
    }

    static Tensor groupNorm(CpuBackendBase be, Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }

    static Tensor layerNorm(CpuBackendBase be, Tensor x, Tensor gamma, Tensor beta, float eps) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }

    static Tensor softmax(CpuBackendBase be, Tensor x) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }

    static Tensor unary(CpuBackendBase be, UnaryOp op, Tensor x, float param) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }

    static Tensor binary(CpuBackendBase be, BinaryOp op, Tensor a, Tensor b) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }

    static Tensor scalar(CpuBackendBase be, BinaryOp op, Tensor x, float s) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }

    static Tensor sum(CpuBackendBase be, Tensor x, int dim, boolean keepDim) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }

    static Tensor mean(CpuBackendBase be, Tensor x, int dim, boolean keepDim) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }

    static Tensor l2Normalize(CpuBackendBase be, Tensor x, float eps) {
        throw new UnsupportedOperationException("VectorOps: not written yet");
    }
}
