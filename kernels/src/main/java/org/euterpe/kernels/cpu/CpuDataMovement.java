package org.euterpe.kernels.cpu;

import java.util.List;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/** Placeholder: being written. */
final class CpuDataMovement {
    private CpuDataMovement() {
    }

    static Tensor concat(CpuBackendBase b, List<Tensor> parts, int dim) {
        throw new UnsupportedOperationException("CpuDataMovement: not written yet");
    }

    static Tensor slice(CpuBackendBase b, Tensor x, int dim, int start, int end) {
        throw new UnsupportedOperationException("CpuDataMovement: not written yet");
    }

    static Tensor permute(CpuBackendBase b, Tensor x, int[] perm) {
        throw new UnsupportedOperationException("CpuDataMovement: not written yet");
    }

    static Tensor upsampleNearest(CpuBackendBase b, Tensor x, int outH, int outW) {
        throw new UnsupportedOperationException("CpuDataMovement: not written yet");
    }

    static Tensor pad(CpuBackendBase b, Tensor x, int[] pads, float value) {
        throw new UnsupportedOperationException("CpuDataMovement: not written yet");
    }

    static Tensor embedding(CpuBackendBase b, Tensor ids, Tensor table) {
        throw new UnsupportedOperationException("CpuDataMovement: not written yet");
    }
}
