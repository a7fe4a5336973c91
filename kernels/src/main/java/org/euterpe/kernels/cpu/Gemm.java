package org.euterpe.kernels.cpu;

import java.util.List;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/** Placeholder: being written. */
final class Gemm {
    private Gemm() {
    }

    static Tensor matmul(CpuBackendBase be, Tensor a, Tensor b, boolean transA, boolean transB, float alpha, Tensor bias, float beta, Tensor c) {
        throw new UnsupportedOperationException("Gemm: not written yet");
    }

    static Tensor linear(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias) {
        throw new UnsupportedOperationException("Gemm: not written yet");
    }
}
