package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.ConvolutionTest.conv2dRef;
import static org.euterpe.kernels.cpu.KernelTestSupport.BE;
import static org.euterpe.kernels.cpu.KernelTestSupport.assertClose;
import static org.euterpe.kernels.cpu.KernelTestSupport.f32;
import static org.euterpe.kernels.cpu.KernelTestSupport.weight;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** {@link Winograd1d} against direct double-precision convolution loops. */
class Winograd1dTest {
    private static final double TOL = 1e-5;

    /** Runs {@link Winograd1d#conv} directly (whatever {@link Winograd1d#applies} says) and checks it. */
    private static double check(Random r, int n, int c, int len, int o, int k, int pad, int dil, DType wType,
            boolean withBias, long chunkFloats) {
        Tensor x = f32(r, n, c, len);
        Tensor wt = weight(r, wType, o, c, k);
        Tensor bias = withBias ? f32(r, o) : null;
        OpShapes.Conv cv = OpShapes.conv1d(x, wt, bias, 1, pad, dil);
        float[] out = new float[n * o * cv.ow()];
        java.util.Arrays.fill(out, Float.NaN); // every element must be written
        Winograd1d.conv(x.toFloatArray(), 0, FloatSource.of(wt), withBias ? bias.toFloatArray() : null, cv, out,
                chunkFloats);
        double[] ref = conv2dRef(x.toFloatArray(), wt.toFloatArray(), withBias ? bias.toFloatArray() : null, n, c, 1,
                len, o, 1, k, new int[] {1, 1}, new int[] {0, pad}, new int[] {1, dil}, 1, cv.ow());
        return assertClose(ref, BE.fromArray(out, Shape.of(n, o, cv.ow())), TOL,
                String.format("winograd1d x[%d,%d,%d] w[%d,%d,%d] p%d d%d %s chunk %d", n, c, len, o, c, k, pad, dil,
                        wType, chunkFloats));
    }

    @Test
    void transformsReproduceCorrelation() {
        // Each algorithm alone on one tile: y[i] = Σ_j g[j] d[i + j], exactly up to rounding.
        Random r = new Random(70);
        for (Winograd1d.Algorithm alg : new Winograd1d.Algorithm[] {Winograd1d.F43, Winograd1d.F44}) {
            double[] d = new double[alg.n()];
            double[] g = new double[alg.r()];
            for (int i = 0; i < d.length; i++) {
                d[i] = r.nextGaussian();
            }
            for (int j = 0; j < g.length; j++) {
                g[j] = r.nextGaussian();
            }
            double[] prod = new double[alg.n()];
            for (int xi = 0; xi < alg.n(); xi++) {
                double in = 0;
                for (int q = 0; q < alg.inTaps()[xi].length; q++) {
                    in += alg.inCoef()[xi][q] * d[alg.inTaps()[xi][q]];
                }
                double f = 0;
                for (int j = 0; j < alg.r(); j++) {
                    f += alg.filter()[xi][j] * g[j];
                }
                prod[xi] = in * f;
            }
            for (int i = 0; i < Winograd1d.TILE; i++) {
                double y = 0;
                for (int q = 0; q < alg.outTaps()[i].length; q++) {
                    y += alg.outCoef()[i][q] * prod[alg.outTaps()[i][q]];
                }
                double want = 0;
                for (int j = 0; j < alg.r(); j++) {
                    want += g[j] * d[i + j];
                }
                assertEquals(want, y, 1e-6, "F(4," + alg.r() + ") output " + i);
            }
        }
    }

    @Test
    void kernelsDilationsAndPaddings() {
        Random r = new Random(71);
        int[][] cases = { // n, c, len, o, k, pad, dil: HiFi-GAN's kernels and dilations, "same" and other padding
            {1, 5, 37, 6, 3, 1, 1}, {1, 4, 41, 3, 3, 3, 3}, {2, 3, 50, 5, 3, 5, 5}, {1, 6, 33, 4, 7, 3, 1},
            {1, 3, 70, 7, 7, 9, 3}, {1, 5, 64, 4, 7, 15, 5}, {1, 4, 45, 5, 11, 5, 1}, {2, 3, 90, 3, 11, 15, 3},
            {1, 2, 120, 6, 11, 25, 5}, {1, 3, 20, 4, 2, 0, 1}, {1, 4, 30, 3, 5, 0, 2}, {1, 3, 9, 2, 3, 0, 4},
            {1, 2, 1, 3, 3, 1, 1}, {1, 3, 13, 2, 16, 4, 1}, {1, 70, 29, 9, 7, 3, 1}, {1, 4, 7, 5, 3, 6, 3}
        };
        for (int[] t : cases) {
            check(r, t[0], t[1], t[2], t[3], t[4], t[5], t[6], DType.F32, t[0] == 1, 1 << 21);
        }
    }

    @Test
    void manyChunks() {
        // Chunks of one GEMM panel, phases split across chunks, the last chunk partial; two images.
        Random r = new Random(72);
        check(r, 2, 6, 700, 5, 7, 9, 3, DType.F32, true, 1);
        check(r, 1, 5, 2000, 4, 3, 5, 5, DType.F32, false, 7L * 5 * 48 * 2);
        // Undilated rows long enough for whole vectors of tiles (the de-interleaved loads and
        // interleaved stores), with lengths that end mid-vector and mid-tile.
        check(r, 1, 4, 901, 3, 11, 5, 1, DType.F32, true, 1);
        check(r, 2, 3, 1283, 5, 3, 1, 1, DType.F32, true, 1 << 21);
    }

    @Test
    void lowPrecisionFilters() {
        Random r = new Random(73);
        for (DType t : new DType[] {DType.F16, DType.BF16, DType.I8}) {
            check(r, 1, 7, 90, 6, 11, 15, 3, t, true, 1 << 21);
        }
    }

    @Test
    void aboutAsAccurateAsDirectConvolution() {
        // HiFi-GAN's widest kernel at a realistic depth: the error stays within 8x im2col's
        // (measured: 1.2e-6 against 2.1e-7 of the outputs' largest magnitude, 5.6x; the input
        // transform's coefficients up to 10 cancel in float).
        Random r = new Random(74);
        int c = 256, len = 300, o = 16, k = 11, dil = 5, pad = 25; // 16 outputs: im2col
        Tensor x = f32(r, 1, c, len);
        Tensor wt = f32(r, o, c, k);
        double[] ref = conv2dRef(x.toFloatArray(), wt.toFloatArray(), null, 1, c, 1, len, o, 1, k, new int[] {1, 1},
                new int[] {0, pad}, new int[] {1, dil}, 1, len);
        OpShapes.Conv cv = OpShapes.conv1d(x, wt, null, 1, pad, dil);
        float[] out = new float[o * len];
        Winograd1d.conv(x.toFloatArray(), 0, FloatSource.of(wt), null, cv, out);
        double wino = assertClose(ref, BE.fromArray(out, Shape.of(1, o, len)), TOL, "winograd1d");
        // Below Winograd1d's minimum output channels, the backend takes implicit im2col.
        assertFalse(Winograd1d.applies(cv));
        double direct = assertClose(ref, BE.conv1d(x, wt, null, 1, pad, dil), TOL, "im2col");
        assertTrue(wino <= 8 * direct, "winograd1d error " + wino + " vs im2col " + direct);
    }

    @Test
    void largeConvolutionsGoThroughIt() {
        // Deep enough for several KC slices and pieces, wide enough for several chunks, via the backend.
        Random r = new Random(75);
        int c = 160, len = 1500, o = 136, k = 7, dil = 3, pad = 9;
        Tensor x = f32(r, 1, c, len);
        Tensor wt = f32(r, o, c, k);
        Tensor bias = f32(r, o);
        assertTrue(Winograd1d.applies(OpShapes.conv1d(x, wt, bias, 1, pad, dil)));
        double[] ref = conv2dRef(x.toFloatArray(), wt.toFloatArray(), bias.toFloatArray(), 1, c, 1, len, o, 1, k,
                new int[] {1, 1}, new int[] {0, pad}, new int[] {1, dil}, 1, len);
        assertClose(ref, BE.conv1d(x, wt, bias, 1, pad, dil), TOL, "conv1d via winograd1d");
    }
}
