package org.euterpe.kernels.cpu;

import java.util.Arrays;

import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Convolutions as GEMMs on {@link GemmDriver}: the filters are the left operand
 * ({@code [outChannels, inChannels * kh * kw]}, widened from F16/BF16/I8 while packing), the
 * input is packed on the fly as implicit im2col tiles ({@link Im2col}), and the output
 * {@code [outChannels, outH * outW]} of each image is the GEMM's C, bias fused per row.
 */
final class Convolution {
    private Convolution() {
    }

    /** See {@link org.euterpe.tensor.Backend#conv2d}. */
    static Tensor conv2d(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int dilation) {
        if (x.rank() != 4 || weight.rank() != 4) {
            throw new IllegalArgumentException("conv2d needs x [batch, channels, h, w] and weight [out, in, kh, kw], got "
                    + x.shape() + " and " + weight.shape());
        }
        return convolve(be, x, weight, bias, x.dim(2), x.dim(3), weight.dim(2), weight.dim(3),
                new int[] {stride, stride}, new int[] {padding, padding}, new int[] {dilation, dilation}, "conv2d");
    }

    /** See {@link org.euterpe.tensor.Backend#conv1d}: a conv2d of height 1. */
    static Tensor conv1d(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int dilation) {
        if (x.rank() != 3 || weight.rank() != 3) {
            throw new IllegalArgumentException("conv1d needs x [batch, channels, length] and weight [out, in, k], got "
                    + x.shape() + " and " + weight.shape());
        }
        Tensor y = convolve(be, x, weight, bias, 1, x.dim(2), 1, weight.dim(2), new int[] {1, stride},
                new int[] {0, padding}, new int[] {1, dilation}, "conv1d");
        return y.reshape(y.dim(0), y.dim(1), y.dim(3));
    }

    /**
     * The shared convolution: {@code x [batch, c, h, w]} with {@code weight [o, c, kh, kw]}
     * (rank 3 or 4, the same elements), per-dim stride/padding/dilation {@code {h, w}}.
     */
    private static Tensor convolve(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int h, int w, int kh,
            int kw, int[] stride, int[] pad, int[] dil, String op) {
        checkGeometry(op, stride[1], pad[1], dil[1]);
        int batch = x.dim(0);
        int channels = x.dim(1);
        int outC = weight.dim(0);
        if (weight.dim(1) != channels) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " has " + channels
                    + " channels but weight " + weight.shape() + " expects " + weight.dim(1));
        }
        int outH = outSize(h, kh, stride[0], pad[0], dil[0]);
        int outW = outSize(w, kw, stride[1], pad[1], dil[1]);
        if (outH <= 0 || outW <= 0) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " is too small for kernel "
                    + weight.shape() + " with padding " + pad[1] + " and dilation " + dil[1]);
        }
        float[] rowBias = Gemm.biasVector(bias, outC, op);
        Tensor out = be.newF32(Shape.of(batch, outC, outH, outW));
        float[] xs = CpuBackendBase.heapArray(x);
        int xOff = CpuBackendBase.heapOffset(x);
        if (xs == null) {
            xs = CpuBackendBase.floats(x);
            xOff = 0;
        }
        int depth = channels * kh * kw;
        int spatial = outH * outW;
        boolean pointwise = kh == 1 && kw == 1 && Arrays.equals(stride, new int[] {1, 1})
                && Arrays.equals(pad, new int[] {0, 0});
        // A 1x1 convolution is a plain GEMM: the image's [c, h*w] is already op(B).
        PanelPacker input = pointwise
                ? new PanelPacker.Strided(FloatSource.of(x), 0, (long) channels * h * w, 1, (long) h * w)
                : new Im2col(xs, xOff, channels, h, w, kh, kw, outW, stride, pad, dil);
        PanelPacker filters = new PanelPacker.Strided(FloatSource.of(weight), 0, 0, depth, 1);
        GemmDriver.gemm(batch, outC, spatial, depth, filters, input,
                new GemmDriver.Output(CpuBackendBase.heapArray(out), 0, outC * spatial, spatial, null, rowBias));
        return out;
    }

    /** See {@link org.euterpe.tensor.Backend#convTranspose1d}. */
    static Tensor convTranspose1d(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int outputPadding, int dilation) {
        if (x.rank() != 3 || weight.rank() != 3 || weight.dim(0) != x.dim(1)) {
            throw new IllegalArgumentException("convTranspose1d needs x [batch, in, length] and weight [in, out, k], got "
                    + x.shape() + " and " + weight.shape());
        }
        checkGeometry("convTranspose1d", stride, padding, dilation);
        if (outputPadding < 0 || outputPadding >= Math.max(stride, dilation)) {
            throw new IllegalArgumentException("convTranspose1d: output padding " + outputPadding
                    + " must be smaller than stride or dilation");
        }
        int batch = x.dim(0);
        int inC = x.dim(1);
        int len = x.dim(2);
        int outC = weight.dim(1);
        int k = weight.dim(2);
        int outLen = (len - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1;
        if (outLen <= 0) {
            throw new IllegalArgumentException("convTranspose1d: output length " + outLen + " for input " + x.shape()
                    + " and weight " + weight.shape());
        }
        float[] biasV = Gemm.biasVector(bias, outC, "convTranspose1d");
        Tensor out = be.newF32(Shape.of(batch, outC, outLen));
        float[] o = CpuBackendBase.heapArray(out);
        ConvTranspose ct = new ConvTranspose(FloatSource.of(x), FloatSource.of(weight), biasV, o, inC, len, outC, k,
                outLen, stride, padding, dilation);
        // Units of (image, output-channel range): each owns its output rows, so the overlap-add
        // of neighbouring time blocks needs no synchronisation.
        int split = Math.max(1, Math.min(outC, Parallel.threads() / gcd(batch, Parallel.threads())));
        Parallel.forRange(batch * split, 1, (from, to) -> {
            for (int u = from; u < to; u++) {
                int b = u / split;
                int s = u % split;
                ct.run(b, (int) ((long) outC * s / split), (int) ((long) outC * (s + 1) / split));
            }
        });
        return out;
    }

    static int outSize(int in, int k, int stride, int pad, int dil) {
        return Math.floorDiv(in + 2 * pad - dil * (k - 1) - 1, stride) + 1;
    }

    private static void checkGeometry(String op, int stride, int padding, int dilation) {
        if (stride < 1 || padding < 0 || dilation < 1) {
            throw new IllegalArgumentException(op + ": stride " + stride + ", padding " + padding + ", dilation "
                    + dilation + " out of range (stride >= 1, padding >= 0, dilation >= 1)");
        }
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
