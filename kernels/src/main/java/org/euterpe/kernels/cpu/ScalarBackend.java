package org.euterpe.kernels.cpu;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/** Placeholder: the plain-loop reference backend is being written. */
public final class ScalarBackend extends CpuBackendBase {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public String description() {
        return "CPU, plain scalar loops (reference)";
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB, float alpha, Tensor bias, float beta,
            Tensor c) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding,
            int dilation) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor softmax(Tensor x) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x, float param) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor scalar(BinaryOp op, Tensor x, float s) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor sum(Tensor x, int dim, boolean keepDim) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor mean(Tensor x, int dim, boolean keepDim) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

    @Override
    public Tensor l2Normalize(Tensor x, float eps) {
        throw new UnsupportedOperationException("scalar backend: not written yet");
    }

}
