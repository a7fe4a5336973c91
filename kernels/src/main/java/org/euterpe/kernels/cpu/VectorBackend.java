package org.euterpe.kernels.cpu;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/**
 * The fast CPU backend: JDK Vector API kernels, multi-threaded with {@link Parallel}.
 * Each family of kernels has one home: {@link Gemm} (matmul, linear), {@link Convolution}
 * (conv2d, conv1d, conv_transpose1d), {@link VectorOps} (element-wise, normalisation,
 * reductions) and {@link FlashAttention}. Data movement is shared with the scalar backend in
 * {@link CpuBackendBase}.
 */
public final class VectorBackend extends CpuBackendBase {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "CPU, Vector API " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit, "
                + Parallel.threads() + " threads";
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB, float alpha, Tensor bias, float beta,
            Tensor c) {
        return Gemm.matmul(this, a, b, transA, transB, alpha, bias, beta, c);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return Gemm.linear(this, x, weight, bias);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        return Convolution.conv2d(this, x, weight, bias, stride, padding, dilation);
    }

    @Override
    public Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        return Convolution.conv1d(this, x, weight, bias, stride, padding, dilation);
    }

    @Override
    public Tensor convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding,
            int dilation) {
        return Convolution.convTranspose1d(this, x, weight, bias, stride, padding, outputPadding, dilation);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        return VectorOps.groupNorm(this, x, groups, gamma, beta, eps, silu);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        return VectorOps.layerNorm(this, x, gamma, beta, eps);
    }

    @Override
    public Tensor softmax(Tensor x) {
        return VectorOps.softmax(this, x);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        return FlashAttention.attention(this, q, k, v, mask, scale);
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x, float param) {
        return VectorOps.unary(this, op, x, param);
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        return VectorOps.binary(this, op, a, b);
    }

    @Override
    public Tensor scalar(BinaryOp op, Tensor x, float s) {
        return VectorOps.scalar(this, op, x, s);
    }

    @Override
    public Tensor sum(Tensor x, int dim, boolean keepDim) {
        return VectorOps.sum(this, x, dim, keepDim);
    }

    @Override
    public Tensor mean(Tensor x, int dim, boolean keepDim) {
        return VectorOps.mean(this, x, dim, keepDim);
    }

    @Override
    public Tensor l2Normalize(Tensor x, float eps) {
        return VectorOps.l2Normalize(this, x, eps);
    }


    // ---------------------------------------------------------------- audio activations (Stable Audio)

    @Override
    public Tensor snake(Tensor x, Tensor alpha, Tensor invBeta) {
        return StableAudioOps.snake(this, x, alpha, invBeta);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        return StableAudioOps.rmsNorm(this, x, weight, eps);
    }

    @Override
    public Tensor rotary(Tensor x, Tensor cos, Tensor sin) {
        return StableAudioOps.rotary(this, x, cos, sin);
    }

    // ---------------------------------------------------------------- gated activation (Stable Audio DiT)

    @Override
    public Tensor swiglu(Tensor x) {
        return StableAudioOps.swiglu(this, x);
    }

    // ---------------------------------------------------------------- fixed-kernel 2x resampling (Dance Diffusion)

    @Override
    public Tensor downsample1d(Tensor x, Tensor kernel) {
        return Resample1d.down(this, x, kernel);
    }

    @Override
    public Tensor upsample1d(Tensor x, Tensor kernel) {
        return Resample1d.up(this, x, kernel);
    }
}
