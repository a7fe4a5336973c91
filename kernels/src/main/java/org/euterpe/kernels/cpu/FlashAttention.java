package org.euterpe.kernels.cpu;

import java.util.List;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/** Placeholder: being written. */
final class FlashAttention {
    private FlashAttention() {
    }

    static Tensor attention(CpuBackendBase be, Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        throw new UnsupportedOperationException("FlashAttention: not written yet");
    }
}
