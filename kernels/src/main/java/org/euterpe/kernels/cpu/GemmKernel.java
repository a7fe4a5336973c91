package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM micro-kernel: a {@code MR x NR} tile of C ({@code 4} rows by 3 vectors) from a packed
 * A panel ({@code [kc][MR]}) and a packed B panel ({@code [kc][NR]}).
 *
 * <p>Why 4x3 vectors: 12 accumulators plus 3 B vectors and a broadcast fit the 32 vector
 * registers with room to spare; larger tiles (8x3) made C2 spill accumulators and ran several
 * times slower. Keep this loop small and measure any change.
 */
final class GemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 4;
    static final int NR = 3 * L;

    private GemmKernel() {
    }

    /**
     * {@code C[r][j] += alpha * sum_k A[k][r] * B[k][j] + colBias[j] + rowBias[r]} for
     * {@code r < rows}, {@code j < cols}.
     *
     * @param acc     scratch of {@code MR * NR} floats for the accumulators
     * @param c       output, element {@code (r, j)} at {@code ci + r * ldc + j}
     * @param colBias per-column bias from {@code colBiasOff}, or null
     * @param rowBias per-row bias from {@code rowBiasOff}, or null
     */
    static void tile(int kc, float[] a, int ai, float[] b, int bi, float[] acc, float[] c, int ci, int ldc, int rows,
            int cols, float alpha, float[] colBias, int colBiasOff, float[] rowBias, int rowBiasOff) {
        multiply(kc, a, ai, b, bi, acc);
        FloatVector al = FloatVector.broadcast(S, alpha);
        for (int r = 0; r < rows; r++) {
            float rb = rowBias == null ? 0f : rowBias[rowBiasOff + r];
            int off = ci + r * ldc;
            for (int v = 0; v < NR; v += L) {
                VectorMask<Float> m = S.indexInRange(v, cols);
                FloatVector bias = FloatVector.broadcast(S, rb);
                if (colBias != null) {
                    bias = bias.add(FloatVector.fromArray(S, colBias, colBiasOff + v, m));
                }
                FloatVector sum = FloatVector.fromArray(S, acc, r * NR + v);
                if (cols == NR) {
                    sum.fma(al, FloatVector.fromArray(S, c, off + v).add(bias)).intoArray(c, off + v);
                } else if (v < cols) {
                    sum.fma(al, FloatVector.fromArray(S, c, off + v, m).add(bias)).intoArray(c, off + v, m);
                }
            }
        }
    }

    /** {@code acc[r][j] = sum_k A[k][r] * B[k][j]}: the hot loop, kept free of anything else. */
    private static void multiply(int kc, float[] a, int ai, float[] b, int bi, float[] acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00;
        for (int k = 0; k < kc; k++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * L);
            FloatVector av = FloatVector.broadcast(S, a[ai]);
            c00 = b0.fma(av, c00);
            c01 = b1.fma(av, c01);
            c02 = b2.fma(av, c02);
            av = FloatVector.broadcast(S, a[ai + 1]);
            c10 = b0.fma(av, c10);
            c11 = b1.fma(av, c11);
            c12 = b2.fma(av, c12);
            av = FloatVector.broadcast(S, a[ai + 2]);
            c20 = b0.fma(av, c20);
            c21 = b1.fma(av, c21);
            c22 = b2.fma(av, c22);
            av = FloatVector.broadcast(S, a[ai + 3]);
            c30 = b0.fma(av, c30);
            c31 = b1.fma(av, c31);
            c32 = b2.fma(av, c32);
        }
        c00.intoArray(acc, 0);
        c01.intoArray(acc, L);
        c02.intoArray(acc, 2 * L);
        c10.intoArray(acc, NR);
        c11.intoArray(acc, NR + L);
        c12.intoArray(acc, NR + 2 * L);
        c20.intoArray(acc, 2 * NR);
        c21.intoArray(acc, 2 * NR + L);
        c22.intoArray(acc, 2 * NR + 2 * L);
        c30.intoArray(acc, 3 * NR);
        c31.intoArray(acc, 3 * NR + L);
        c32.intoArray(acc, 3 * NR + 2 * L);
    }
}
