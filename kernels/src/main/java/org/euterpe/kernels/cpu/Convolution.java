package org.euterpe.kernels.cpu;

import java.util.List;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/** Placeholder: being written. */
final class Convolution {
    private Convolution() {
    }

    static Tensor conv2d(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        throw new UnsupportedOperationException("Convolution: not written yet");
    }

    static Tensor conv1d(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        throw new UnsupportedOperationException("Convolution: not written yet");
    }

    static Tensor convTranspose1d(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding, int dilation) {
        throw new UnsupportedOperationException("Convolution: not written yet");
    }
}
