package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.KernelTestSupport.BE;
import static org.euterpe.kernels.cpu.KernelTestSupport.assertClose;
import static org.euterpe.kernels.cpu.KernelTestSupport.f32;
import static org.euterpe.kernels.cpu.KernelTestSupport.weight;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** {@link Gemm} against a double-precision triple loop. */
class GemmTest {
    private static final double TOL = 1e-5;
    private static final int[] SIZES = {1, 3, 17, 63, 65, 100, 129};

    /**
     * {@code alpha * op(a) op(b) + bias + beta * c} in double, over batch entries ({@code b}
     * shared when rank 2). Operands are flat; {@code bw} holds b's values as the kernel sees them.
     */
    private static double[] reference(float[] a, float[] bw, int batches, boolean sharedB, int m, int n, int k,
            boolean transA, boolean transB, float alpha, float[] bias, float beta, float[] c) {
        double[] out = new double[batches * m * n];
        for (int e = 0; e < batches; e++) {
            int aOff = e * m * k;
            int bOff = sharedB ? 0 : e * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = transA ? a[aOff + p * m + i] : a[aOff + i * k + p];
                        double bv = transB ? bw[bOff + j * k + p] : bw[bOff + p * n + j];
                        s += av * bv;
                    }
                    int o = e * m * n + i * n + j;
                    out[o] = alpha * s + (bias == null ? 0 : bias[j]) + (c == null ? 0 : beta * (double) c[o]);
                }
            }
        }
        return out;
    }

    private static void check(Random r, int batches, boolean sharedB, int m, int n, int k, boolean transA,
            boolean transB, float alpha, boolean withBias, float beta, DType bType) {
        Tensor a = batches == 0 ? f32(r, transA ? k : m, transA ? m : k)
                : f32(r, batches, transA ? k : m, transA ? m : k);
        int bn = transB ? n : k;
        int bk = transB ? k : n;
        Tensor b = sharedB || batches == 0 ? weight(r, bType, bn, bk) : weight(r, bType, batches, bn, bk);
        Tensor bias = withBias ? f32(r, n) : null;
        int e = Math.max(batches, 1);
        Tensor c = beta != 0 ? (batches == 0 ? f32(r, m, n) : f32(r, batches, m, n)) : null;
        double[] ref = reference(a.toFloatArray(), b.toFloatArray(), e, sharedB || batches == 0, m, n, k, transA,
                transB, alpha, withBias ? bias.toFloatArray() : null, beta, c == null ? null : c.toFloatArray());
        Tensor got = BE.matmul(a, b, transA, transB, alpha, bias, beta, c);
        int[] expectShape = batches == 0 ? new int[] {m, n} : new int[] {batches, m, n};
        assertArrayEquals(expectShape, got.shape().dims(), "result shape");
        assertClose(ref, got, TOL, String.format("matmul batch=%d shared=%b m=%d n=%d k=%d tA=%b tB=%b %s", batches,
                sharedB, m, n, k, transA, transB, bType));
    }

    @Test
    void allSizeCombinationsRank2() {
        Random r = new Random(11);
        for (int m : SIZES) {
            for (int n : SIZES) {
                for (int k : SIZES) {
                    check(r, 0, true, m, n, k, false, false, 1f, false, 0f, DType.F32);
                }
            }
        }
    }

    @Test
    void transposesBiasAlphaBetaAndBatches() {
        Random r = new Random(12);
        int[][] shapes = {{17, 65, 63}, {100, 3, 129}, {65, 129, 17}, {1, 100, 65}, {63, 1, 3}};
        for (int[] s : shapes) {
            for (int variant = 0; variant < 8; variant++) {
                boolean tA = (variant & 1) != 0;
                boolean tB = (variant & 2) != 0;
                boolean shared = (variant & 4) != 0;
                int batches = 1 + (variant + s[0]) % 3;
                check(r, batches, shared, s[0], s[1], s[2], tA, tB, 0.5f + variant, variant % 3 == 0, 0f, DType.F32);
                check(r, batches, shared, s[0], s[1], s[2], tA, tB, -1.25f, true, 0.75f, DType.F32);
            }
        }
    }

    @Test
    void largerThanOneBlockInEveryDimension() {
        // Crosses the KC, MC and NC block edges and the thread split.
        Random r = new Random(13);
        check(r, 0, true, GemmDriver.MC * 2 + 5, GemmDriver.NC + 37, GemmDriver.KC * 2 + 3, false, false, 1f, true,
                0.5f, DType.F32);
        check(r, 2, true, 70, GemmDriver.NC + 1, GemmDriver.KC + 1, true, true, 1f, true, 0f, DType.BF16);
    }

    @Test
    void lowPrecisionWeights() {
        Random r = new Random(14);
        for (DType t : new DType[] {DType.F32, DType.F16, DType.BF16, DType.I8}) {
            check(r, 0, true, 63, 100, 129, false, true, 1f, true, 0f, t);
            check(r, 0, true, 17, 65, 100, false, false, 1f, false, 0f, t);
            check(r, 2, false, 17, 65, 33, false, true, 1f, false, 0f, t);
        }
    }

    @Test
    void emptyDepthGivesBiasAndBeta() {
        Random r = new Random(15);
        check(r, 0, true, 5, 7, 0, false, false, 1f, true, 2f, DType.F32);
    }

    @Test
    void linearMatchesTorchSemantics() {
        Random r = new Random(16);
        for (DType t : new DType[] {DType.F32, DType.F16, DType.I8}) {
            Tensor x = f32(r, 2, 3, 65);
            Tensor w = weight(r, t, 100, 65);
            Tensor bias = f32(r, 100);
            double[] ref = reference(x.toFloatArray(), w.toFloatArray(), 1, true, 6, 100, 65, false, true, 1f,
                    bias.toFloatArray(), 0f, null);
            Tensor y = BE.linear(x, w, bias);
            assertArrayEquals(new int[] {2, 3, 100}, y.shape().dims());
            assertClose(ref, y, TOL, "linear " + t);
        }
        Tensor v = f32(r, 17);
        Tensor w = weight(r, DType.F32, 3, 17);
        double[] ref = reference(v.toFloatArray(), w.toFloatArray(), 1, true, 1, 3, 17, false, true, 1f, null, 0f, null);
        Tensor y = BE.linear(v, w, null);
        assertArrayEquals(new int[] {3}, y.shape().dims());
        assertClose(ref, y, TOL, "linear of a vector");
    }

    @Test
    void singleThreadMatchesToo() {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            Random r = new Random(17);
            check(r, 3, true, 65, 129, 100, false, false, 1f, true, 0f, DType.F32);
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** Runs {@code op} at 1, 2 and 3 threads, twice each, and checks every result has the same bits. */
    static void sameBitsAtAnyThreadCount(java.util.function.Supplier<Tensor> op, String what) {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] first = op.get().toFloatArray();
            for (int threads : new int[] {2, 3, 2, 3}) {
                Parallel.setThreads(threads);
                float[] got = op.get().toFloatArray();
                for (int i = 0; i < first.length; i++) {
                    if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(first[i])) {
                        throw new AssertionError(what + ": element " + i + " is " + got[i] + " at " + threads
                                + " threads but " + first[i] + " at 1 thread");
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void resultsDoNotDependOnThreadsOrScheduling() {
        Random r = new Random(23);
        // Tall, wide and batched shapes, so the work is split over rows, columns and batch entries.
        Tensor a = f32(r, 3, 300, 260);
        Tensor b = f32(r, 3, 260, 500);
        sameBitsAtAnyThreadCount(() -> BE.matmul(a, b, false, false, 1f, null, 0f, null), "batched matmul");
        Tensor x = f32(r, 700, 300);
        Tensor w = f32(r, 40, 300);
        Tensor bias = f32(r, 40);
        sameBitsAtAnyThreadCount(() -> BE.linear(x, w, bias), "tall linear");
    }

    @Test
    void splitGivesEveryThreadWorkOnSmallShapes() {
        // The U-Net's last stage: a 3x3 conv with 640 channels over 32 x 2 positions, 2 images.
        GemmDriver.Split s = GemmDriver.Split.of(2, 640, 64, 640 * 9, 8);
        assertEquals(8, 2 * s.mSplit() * s.nSplit(), "units for 8 chunks");
        // Few output rows, many columns: split the columns (packing A again is cheap).
        s = GemmDriver.Split.of(1, 8, 4000, 1152, 8);
        assertEquals(1, s.mSplit());
        assertEquals(8, s.nSplit());
        // Only as many units as there are tiles.
        s = GemmDriver.Split.of(1, 4, 10, 5000, 8);
        assertEquals(1, s.mSplit() * s.nSplit());
    }

    @Test
    void operandsMayBeViewsIntoLargerTensors() {
        Random r = new Random(19);
        Tensor a = f32(r, 4, 17, 33).slice(0, 1, 3);
        Tensor b = f32(r, 3, 33, 20).slice(0, 1, 3);
        double[] ref = reference(a.toFloatArray(), b.toFloatArray(), 2, false, 17, 20, 33, false, false, 1f, null, 0f,
                null);
        assertClose(ref, BE.matmul(a, b, false, false, 1f, null, 0f, null), TOL, "matmul of views");
    }

    @Test
    void badShapesAreRejected() {
        Random r = new Random(18);
        Tensor a = f32(r, 4, 5);
        assertThrows(IllegalArgumentException.class, () -> BE.matmul(a, f32(r, 6, 3), false, false, 1f, null, 0f, null));
        assertThrows(IllegalArgumentException.class, () -> BE.matmul(a, f32(r, 5, 3), false, false, 1f, f32(r, 4), 0f,
                null));
        assertThrows(IllegalArgumentException.class, () -> BE.matmul(f32(r, 2, 4, 5), f32(r, 3, 5, 3), false, false,
                1f, null, 0f, null));
        assertThrows(IllegalArgumentException.class, () -> BE.matmul(a, f32(r, 5, 3), false, false, 1f, null, 1f,
                f32(r, 4, 4)));
        assertThrows(IllegalArgumentException.class, () -> BE.linear(a, f32(r, 3, 4), null));
    }

    /**
     * An overwritten output ({@link GemmDriver.Output#overwrite}) ignores what C held (NaN here)
     * and gives the same bits as accumulating into a zeroed C with the bias pass, for row and
     * column biases, edge tiles, several depth slices, across-batch and packed-operand paths.
     */
    @Test
    void overwrittenOutputIgnoresOldContentsAndMatchesAccumulateBits() {
        Random r = new Random(23);
        int[][] shapes = {{1, 1, 1}, {8, GemmKernel.NR, 5}, {17, 63, 300}, {130, 70, 0}, {9, 2100, 40},
            {200, 40, 600}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (int batches : new int[] {1, 2}) {
                for (int bias = 0; bias < 4; bias++) {
                    float[] a = values(r, m * k);
                    float[] b = values(r, batches * n * k);
                    float[] colBias = (bias & 1) != 0 ? values(r, n) : null;
                    float[] rowBias = (bias & 2) != 0 ? values(r, m) : null;
                    // A shared by the batch (as a convolution's filters), B per entry, stored [n, k].
                    PanelPacker pa = new PanelPacker.Strided(FloatSource.of(a), 0, 0, k, 1);
                    PanelPacker pb = new PanelPacker.Strided(FloatSource.of(b), 0, (long) n * k, k, 1);
                    float[] want = new float[batches * m * n];
                    GemmDriver.gemm(batches, m, n, k, pa, pb, new GemmDriver.Output(want, 0, m * n, n, colBias,
                            rowBias));
                    float[] got = new float[batches * m * n];
                    java.util.Arrays.fill(got, Float.NaN);
                    GemmDriver.gemm(batches, m, n, k, pa, pb, GemmDriver.Output.overwrite(got, 0, m * n, n, colBias,
                            rowBias));
                    String what = "m=" + m + " n=" + n + " k=" + k + " batches=" + batches + " bias=" + bias;
                    assertArrayEquals(want, got, what);
                    // The same through the serial blocked loops.
                    java.util.Arrays.fill(got, Float.NaN);
                    for (int e = 0; e < batches; e++) {
                        GemmDriver.block(e, 0, m, 0, n, k, pa, pb, GemmDriver.Output.overwrite(got, 0, m * n, n,
                                colBias, rowBias));
                    }
                    assertArrayEquals(want, got, "serial " + what);
                }
            }
        }
    }

    private static float[] values(Random r, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }
}
