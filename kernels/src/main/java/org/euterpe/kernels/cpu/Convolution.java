package org.euterpe.kernels.cpu;

import java.util.Arrays;

import org.euterpe.tensor.OpShapes;
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
        return convolve(be, x, weight, bias, OpShapes.conv2d(x, weight, bias, stride, padding, dilation));
    }

    /** See {@link org.euterpe.tensor.Backend#conv1d}: a conv2d of height 1. */
    static Tensor conv1d(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int dilation) {
        OpShapes.Conv cv = OpShapes.conv1d(x, weight, bias, stride, padding, dilation);
        return convolve(be, x, weight, bias, cv).reshapeResult(cv.out().dims());
    }

    /**
     * The shared convolution: {@code x [batch, c, h, w]} with {@code weight [o, c, kh, kw]}
     * (rank 3 or 4, the same elements), as checked by {@link OpShapes}; the result is 4-D.
     */
    private static Tensor convolve(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, OpShapes.Conv cv) {
        int batch = cv.batch();
        int channels = cv.cin();
        int outC = cv.cout();
        int h = cv.h();
        int w = cv.w();
        int kh = cv.kh();
        int kw = cv.kw();
        int[] stride = {cv.sh(), cv.sw()};
        int[] pad = {cv.ph(), cv.pw()};
        int[] dil = {cv.dh(), cv.dw()};
        int outH = cv.oh();
        int outW = cv.ow();
        float[] rowBias = Gemm.biasVector(bias);
        float[] xs = CpuBackendBase.heapArray(x);
        int xOff = CpuBackendBase.heapOffset(x);
        if (xs == null) {
            xs = CpuBackendBase.floats(x);
            xOff = 0;
        }
        if (Winograd.applies(cv)) {
            Tensor out = be.newF32Empty(Shape.of(batch, outC, outH, outW));
            Winograd.conv(xs, xOff, FloatSource.of(weight), rowBias, cv, CpuBackendBase.heapArray(out));
            return out;
        }
        if (Winograd1d.applies(cv)) {
            Tensor out = be.newF32Empty(Shape.of(batch, outC, outH, outW));
            Winograd1d.conv(xs, xOff, FloatSource.of(weight), rowBias, cv, CpuBackendBase.heapArray(out));
            return out;
        }
        Tensor out = be.newF32Empty(Shape.of(batch, outC, outH, outW)); // every element written (overwrite)
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
                GemmDriver.Output.overwrite(CpuBackendBase.heapArray(out), 0, outC * spatial, spatial, null, rowBias));
        return out;
    }

    /** See {@link org.euterpe.tensor.Backend#convTranspose1d}. */
    static Tensor convTranspose1d(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int outputPadding, int dilation) {
        Shape outShape = OpShapes.convTranspose1d(x, weight, bias, stride, padding, outputPadding, dilation);
        int batch = x.dim(0);
        int inC = x.dim(1);
        int len = x.dim(2);
        int outC = weight.dim(1);
        int k = weight.dim(2);
        int outLen = outShape.dim(2);
        float[] biasV = Gemm.biasVector(bias);
        Tensor out = be.newF32Empty(outShape); // ConvTranspose.run fills every row first
        float[] o = CpuBackendBase.heapArray(out);
        ConvTranspose ct = new ConvTranspose(FloatSource.of(x), FloatSource.of(weight), biasV, o, inC, len, outC, k,
                outLen, stride, padding, dilation);
        // Units of (image, output-channel range), several per thread: each owns its output rows,
        // so the overlap-add of neighbouring time blocks needs no synchronisation.
        int split = Math.max(1, Math.min(outC, ceilDiv(Parallel.chunkTarget(), Math.max(1, batch))));
        Parallel.forChunks(batch * split, u -> {
            int b = u / split;
            int s = u % split;
            ct.run(b, (int) ((long) outC * s / split), (int) ((long) outC * (s + 1) / split));
        });
        return out;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
