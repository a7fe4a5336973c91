package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM micro-kernel: {@code C += A B} on a {@code MR x NR} tile of C (4 rows by 3 vectors)
 * from a packed A panel ({@code [kc][MR]}) and a packed B panel ({@code [kc][NR]}).
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
     * {@code C[r][j] += sum_k A[k][r] * B[k][j]} for {@code r < rows}, {@code j < cols}; C
     * element {@code (r, j)} at {@code ci + r * ldc + j}. Edge tiles go through {@code scratch}
     * ({@code MR * NR} floats) so the hot loop always runs on a full tile.
     */
    static void tile(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, int rows, int cols,
            float[] scratch) {
        if (rows == MR && cols == NR) {
            multiply(kc, a, ai, b, bi, c, ci, ldc);
            return;
        }
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                System.arraycopy(c, ci + r * ldc, scratch, r * NR, cols);
            }
        }
        multiply(kc, a, ai, b, bi, scratch, 0, NR);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(scratch, r * NR, c, ci + r * ldc, cols);
        }
    }

    /** The hot loop on a full tile: accumulators start from C and go back to C. */
    private static void multiply(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc) {
        int r1 = ci + ldc;
        int r2 = r1 + ldc;
        int r3 = r2 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, ci);
        FloatVector c01 = FloatVector.fromArray(S, c, ci + L);
        FloatVector c02 = FloatVector.fromArray(S, c, ci + 2 * L);
        FloatVector c10 = FloatVector.fromArray(S, c, r1);
        FloatVector c11 = FloatVector.fromArray(S, c, r1 + L);
        FloatVector c12 = FloatVector.fromArray(S, c, r1 + 2 * L);
        FloatVector c20 = FloatVector.fromArray(S, c, r2);
        FloatVector c21 = FloatVector.fromArray(S, c, r2 + L);
        FloatVector c22 = FloatVector.fromArray(S, c, r2 + 2 * L);
        FloatVector c30 = FloatVector.fromArray(S, c, r3);
        FloatVector c31 = FloatVector.fromArray(S, c, r3 + L);
        FloatVector c32 = FloatVector.fromArray(S, c, r3 + 2 * L);
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
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c12.intoArray(c, r1 + 2 * L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c22.intoArray(c, r2 + 2 * L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c32.intoArray(c, r3 + 2 * L);
    }
}
