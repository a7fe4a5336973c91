package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.KernelTestSupport.BE;
import static org.euterpe.kernels.cpu.KernelTestSupport.assertClose;
import static org.euterpe.kernels.cpu.KernelTestSupport.f32;
import static org.euterpe.kernels.cpu.KernelTestSupport.weight;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** {@link Convolution} against direct double-precision convolution loops. */
class ConvolutionTest {
    private static final double TOL = 1e-5;

    /** Direct conv2d: {@code x [n, c, h, w]}, {@code w [o, c, kh, kw]}, per-dim geometry {@code {h, w}}. */
    static double[] conv2dRef(float[] x, float[] w, float[] bias, int n, int c, int h, int wd, int o, int kh,
            int kw, int[] s, int[] p, int[] d, int oh, int ow) {
        double[] out = new double[n * o * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                for (int y = 0; y < oh; y++) {
                    for (int xo = 0; xo < ow; xo++) {
                        double acc = bias == null ? 0 : bias[oc];
                        for (int ic = 0; ic < c; ic++) {
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = y * s[0] - p[0] + ky * d[0];
                                    int ix = xo * s[1] - p[1] + kx * d[1];
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        acc += (double) x[((b * c + ic) * h + iy) * wd + ix]
                                                * w[((oc * c + ic) * kh + ky) * kw + kx];
                                    }
                                }
                            }
                        }
                        out[((b * o + oc) * oh + y) * ow + xo] = acc;
                    }
                }
            }
        }
        return out;
    }

    static int outSize(int in, int k, int s, int p, int d) {
        return (in + 2 * p - d * (k - 1) - 1) / s + 1;
    }

    private static void checkConv2d(Random r, int n, int c, int h, int wd, int o, int k, int s, int p, int d,
            DType wType, boolean withBias) {
        Tensor x = f32(r, n, c, h, wd);
        Tensor w = weight(r, wType, o, c, k, k);
        Tensor bias = withBias ? f32(r, o) : null;
        int oh = outSize(h, k, s, p, d);
        int ow = outSize(wd, k, s, p, d);
        int[] g = {s, s};
        double[] ref = conv2dRef(x.toFloatArray(), w.toFloatArray(), withBias ? bias.toFloatArray() : null, n, c, h, wd,
                o, k, k, g, new int[] {p, p}, new int[] {d, d}, oh, ow);
        Tensor y = BE.conv2d(x, w, bias, s, p, d);
        assertArrayEquals(new int[] {n, o, oh, ow}, y.shape().dims());
        assertClose(ref, y, TOL, String.format("conv2d x[%d,%d,%d,%d] w[%d,%d,%d,%d] s%d p%d d%d %s", n, c, h, wd, o,
                c, k, k, s, p, d, wType));
    }

    @Test
    void conv2dGeometries() {
        Random r = new Random(21);
        int[][] cases = { // n, c, h, w, o, k, stride, pad, dil
            {1, 3, 9, 7, 5, 3, 1, 1, 1}, {2, 4, 10, 13, 17, 3, 2, 1, 1}, {1, 5, 17, 11, 3, 3, 1, 2, 1},
            {3, 2, 12, 9, 4, 3, 1, 0, 1}, {1, 3, 15, 15, 6, 3, 1, 3, 3}, {2, 6, 8, 5, 65, 1, 1, 0, 1},
            {1, 7, 9, 10, 9, 1, 2, 0, 1}, {1, 2, 11, 11, 3, 5, 2, 2, 1}, {2, 8, 4, 2, 20, 3, 1, 1, 1},
            {1, 4, 7, 7, 4, 3, 2, 0, 2}, {1, 3, 1, 1, 5, 3, 1, 1, 1}
        };
        for (int[] t : cases) {
            checkConv2d(r, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], DType.F32, t[0] != 3);
        }
    }

    @Test
    void conv2dLargerThanOneBlock() {
        // Depth (c*k*k) beyond KC, output positions beyond one NR panel, several row blocks.
        Random r = new Random(22);
        checkConv2d(r, 2, 40, 16, 9, GemmDriver.MC + 9, 3, 1, 1, 1, DType.F32, true);
        // Narrow images in a batch of three: the filters packed once for every image (GemmDriver's
        // across-batches units), depth over several KC slices, a partial last row tile; and 1x1.
        checkConv2d(r, 3, 64, 6, 5, GemmDriver.MC + 20, 3, 1, 1, 1, DType.F32, true);
        checkConv2d(r, 3, 300, 4, 3, 2 * GemmDriver.MC + 3, 1, 1, 0, 1, DType.F16, true);
    }

    @Test
    void conv2dLowPrecisionFilters() {
        Random r = new Random(23);
        for (DType t : new DType[] {DType.F16, DType.BF16, DType.I8, DType.F32}) {
            checkConv2d(r, 2, 5, 9, 8, 7, 3, 1, 1, 1, t, true);
            checkConv2d(r, 1, 6, 5, 5, 4, 1, 1, 0, 1, t, false);
        }
    }

    @Test
    void conv1dGeometries() {
        Random r = new Random(24);
        int[][] cases = { // n, c, len, o, k, stride, pad, dil
            {1, 3, 17, 5, 3, 1, 1, 1}, {2, 4, 101, 6, 7, 1, 9, 3}, {1, 5, 63, 3, 11, 1, 25, 5},
            {3, 2, 33, 65, 3, 2, 1, 1}, {1, 7, 129, 1, 7, 1, 3, 1}, {1, 3, 8, 4, 1, 1, 0, 1},
            {2, 9, 50, 10, 5, 3, 2, 1}
        };
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.I8}) {
            for (int[] t : cases) {
                int n = t[0], c = t[1], len = t[2], o = t[3], k = t[4], s = t[5], p = t[6], d = t[7];
                Tensor x = f32(r, n, c, len);
                Tensor w = weight(r, wt, o, c, k);
                Tensor bias = f32(r, o);
                int ol = outSize(len, k, s, p, d);
                double[] ref = conv2dRef(x.toFloatArray(), w.toFloatArray(), bias.toFloatArray(), n, c, 1, len, o, 1, k,
                        new int[] {1, s}, new int[] {0, p}, new int[] {1, d}, 1, ol);
                Tensor y = BE.conv1d(x, w, bias, s, p, d);
                assertArrayEquals(new int[] {n, o, ol}, y.shape().dims());
                assertClose(ref, y, TOL, String.format("conv1d x[%d,%d,%d] w[%d,%d,%d] s%d p%d d%d %s", n, c, len, o, c,
                        k, s, p, d, wt));
            }
        }
    }

    /** Direct transposed conv: scatter each input step into the output, as torch defines it. */
    private static double[] convTransposeRef(float[] x, float[] w, float[] bias, int n, int ci, int len, int co, int k,
            int s, int p, int op, int d) {
        int ol = (len - 1) * s - 2 * p + d * (k - 1) + op + 1;
        double[] out = new double[n * co * ol];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < co; o++) {
                for (int u = 0; u < ol; u++) {
                    out[(b * co + o) * ol + u] = bias == null ? 0 : bias[o];
                }
                for (int c = 0; c < ci; c++) {
                    for (int t = 0; t < len; t++) {
                        for (int j = 0; j < k; j++) {
                            int u = t * s - p + j * d;
                            if (u >= 0 && u < ol) {
                                out[(b * co + o) * ol + u] += (double) x[(b * ci + c) * len + t] * w[(c * co + o) * k + j];
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    @Test
    void convTranspose1dGeometries() {
        Random r = new Random(25);
        int[][] cases = { // n, in, len, out, k, stride, pad, outPad, dil
            {1, 4, 17, 3, 16, 8, 4, 0, 1}, {2, 5, 9, 6, 8, 4, 2, 0, 1}, {1, 3, 33, 2, 11, 5, 3, 0, 1},
            {1, 6, 20, 5, 20, 10, 5, 0, 1}, {1, 2, 7, 3, 3, 2, 1, 1, 1}, {3, 3, 5, 4, 4, 1, 0, 0, 2},
            {1, 7, 300, 9, 16, 8, 4, 0, 1}, {2, 65, 13, 17, 3, 3, 0, 2, 1}
        };
        for (DType wt : new DType[] {DType.F32, DType.BF16, DType.I8}) {
            for (int[] t : cases) {
                int n = t[0], ci = t[1], len = t[2], co = t[3], k = t[4], s = t[5], p = t[6], op = t[7], d = t[8];
                Tensor x = f32(r, n, ci, len);
                Tensor w = weight(r, wt, ci, co, k);
                Tensor bias = t[0] == 3 ? null : f32(r, co);
                double[] ref = convTransposeRef(x.toFloatArray(), w.toFloatArray(),
                        bias == null ? null : bias.toFloatArray(), n, ci, len, co, k, s, p, op, d);
                Tensor y = BE.convTranspose1d(x, w, bias, s, p, op, d);
                assertArrayEquals(new int[] {n, co, (len - 1) * s - 2 * p + d * (k - 1) + op + 1}, y.shape().dims());
                assertClose(ref, y, TOL, String.format("convTranspose1d x[%d,%d,%d] w[%d,%d,%d] s%d p%d op%d d%d %s", n,
                        ci, len, ci, co, k, s, p, op, d, wt));
            }
        }
    }

    @Test
    void resultsDoNotDependOnThreadsOrScheduling() {
        Random r = new Random(29);
        // A late U-Net stage: many channels, few positions (split over output channels).
        Tensor x = f32(r, 2, 64, 8, 2);
        Tensor w = f32(r, 96, 64, 3, 3);
        Tensor bias = f32(r, 96);
        GemmTest.sameBitsAtAnyThreadCount(() -> BE.conv2d(x, w, bias, 1, 1, 1), "conv2d, few positions");
        // An early stage: few channels, many positions (split over positions).
        Tensor x2 = f32(r, 1, 8, 60, 30);
        Tensor w2 = f32(r, 16, 8, 3, 3);
        GemmTest.sameBitsAtAnyThreadCount(() -> BE.conv2d(x2, w2, null, 1, 1, 1), "conv2d, many positions");
        // Enough rows that the time blocks are smaller than the input.
        Tensor x3 = f32(r, 2, 9, 200);
        Tensor w3 = weight(r, DType.F32, 9, 300, 16);
        GemmTest.sameBitsAtAnyThreadCount(() -> BE.convTranspose1d(x3, w3, null, 8, 4, 0, 1), "convTranspose1d");
    }

    @Test
    void convTransposeSpansSeveralTimeBlocks() {
        // Enough output rows (out * k) that the scratch holds only a few NR-wide time blocks.
        Random r = new Random(26);
        int n = 1, ci = 9, len = 200, co = 300, k = 16, s = 8, p = 4;
        Tensor x = f32(r, n, ci, len);
        Tensor w = weight(r, DType.F32, ci, co, k);
        double[] ref = convTransposeRef(x.toFloatArray(), w.toFloatArray(), null, n, ci, len, co, k, s, p, 0, 1);
        assertClose(ref, BE.convTranspose1d(x, w, null, s, p, 0, 1), TOL, "convTranspose1d, blocked time");
    }

    @Test
    void inputMayBeAViewIntoALargerTensor() {
        Random r = new Random(28);
        Tensor big = f32(r, 3, 4, 6, 5);
        Tensor x = big.slice(0, 1, 3);
        Tensor w = f32(r, 3, 4, 3, 3);
        double[] ref = conv2dRef(x.toFloatArray(), w.toFloatArray(), null, 2, 4, 6, 5, 3, 3, 3, new int[] {1, 1},
                new int[] {1, 1}, new int[] {1, 1}, 6, 5);
        assertClose(ref, BE.conv2d(x, w, null, 1, 1, 1), TOL, "conv2d of a view");
        Tensor w1 = f32(r, 3, 4, 1, 1);
        double[] ref1 = conv2dRef(x.toFloatArray(), w1.toFloatArray(), null, 2, 4, 6, 5, 3, 1, 1, new int[] {1, 1},
                new int[] {0, 0}, new int[] {1, 1}, 6, 5);
        assertClose(ref1, BE.conv2d(x, w1, null, 1, 0, 1), TOL, "1x1 conv2d of a view");
    }

    @Test
    void badArgumentsAreRejected() {
        Random r = new Random(27);
        Tensor x = f32(r, 1, 3, 8, 8);
        assertThrows(IllegalArgumentException.class, () -> BE.conv2d(x, f32(r, 4, 2, 3, 3), null, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> BE.conv2d(x, f32(r, 4, 3, 3, 3), null, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> BE.conv2d(x, f32(r, 4, 3, 9, 9), null, 1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> BE.conv2d(x, f32(r, 4, 3, 3, 3), f32(r, 3), 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> BE.conv1d(f32(r, 1, 3, 8), f32(r, 4, 3, 3), null, 1, -1, 1));
        assertThrows(IllegalArgumentException.class,
                () -> BE.convTranspose1d(f32(r, 1, 3, 8), f32(r, 4, 2, 3), null, 2, 0, 0, 1));
        assertThrows(IllegalArgumentException.class,
                () -> BE.convTranspose1d(f32(r, 1, 3, 8), f32(r, 3, 2, 3), null, 2, 0, 2, 1));
    }
}
