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
     * ({@code MR * NR} floats) so the hot loop always runs on a full tile; an edge of at most one
     * vector of columns (e.g. 64 output positions = one full tile and 16 columns) runs only that
     * vector, a third of the work.
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
        if (cols <= L) {
            multiplyOneVector(kc, a, ai, b, bi, scratch);
        } else {
            multiply(kc, a, ai, b, bi, scratch, 0, NR);
        }
        for (int r = 0; r < rows; r++) {
            System.arraycopy(scratch, r * NR, c, ci + r * ldc, cols);
        }
    }

    /**
     * The hot loop on a full tile. Accumulators start at zero and C is added only at the end, so
     * a C tile that misses the caches does not stall the FMA chains (the next tile's loop
     * overlaps the wait).
     */
    private static void multiply(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc) {
        int r1 = ci + ldc;
        int r2 = r1 + ldc;
        int r3 = r2 + ldc;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00;
        // Indices linear in k (not separately stepped pointers) so C2 hoists the bounds checks.
        for (int k = 0; k < kc; k++) {
            int bk = bi + k * NR;
            int ak = ai + k * MR;
            FloatVector b0 = FloatVector.fromArray(S, b, bk);
            FloatVector b1 = FloatVector.fromArray(S, b, bk + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bk + 2 * L);
            FloatVector av = FloatVector.broadcast(S, a[ak]);
            c00 = b0.fma(av, c00);
            c01 = b1.fma(av, c01);
            c02 = b2.fma(av, c02);
            av = FloatVector.broadcast(S, a[ak + 1]);
            c10 = b0.fma(av, c10);
            c11 = b1.fma(av, c11);
            c12 = b2.fma(av, c12);
            av = FloatVector.broadcast(S, a[ak + 2]);
            c20 = b0.fma(av, c20);
            c21 = b1.fma(av, c21);
            c22 = b2.fma(av, c22);
            av = FloatVector.broadcast(S, a[ak + 3]);
            c30 = b0.fma(av, c30);
            c31 = b1.fma(av, c31);
            c32 = b2.fma(av, c32);
        }
        addInto(c, ci, c00, c01, c02);
        addInto(c, r1, c10, c11, c12);
        addInto(c, r2, c20, c21, c22);
        addInto(c, r3, c30, c31, c32);
    }

    /**
     * {@link #multiply} on the first vector of columns only, into {@code c} with row stride
     * {@code NR}: each lane's sum is formed in the same order, so the result is the same.
     */
    private static void multiplyOneVector(int kc, float[] a, int ai, float[] b, int bi, float[] c) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        for (int k = 0; k < kc; k++) {
            int ak = ai + k * MR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi + k * NR);
            c0 = b0.fma(FloatVector.broadcast(S, a[ak]), c0);
            c1 = b0.fma(FloatVector.broadcast(S, a[ak + 1]), c1);
            c2 = b0.fma(FloatVector.broadcast(S, a[ak + 2]), c2);
            c3 = b0.fma(FloatVector.broadcast(S, a[ak + 3]), c3);
        }
        c0.add(FloatVector.fromArray(S, c, 0)).intoArray(c, 0);
        c1.add(FloatVector.fromArray(S, c, NR)).intoArray(c, NR);
        c2.add(FloatVector.fromArray(S, c, 2 * NR)).intoArray(c, 2 * NR);
        c3.add(FloatVector.fromArray(S, c, 3 * NR)).intoArray(c, 3 * NR);
    }

    /** {@code c[off ..< off + NR] += (v0, v1, v2)}. */
    private static void addInto(float[] c, int off, FloatVector v0, FloatVector v1, FloatVector v2) {
        v0.add(FloatVector.fromArray(S, c, off)).intoArray(c, off);
        v1.add(FloatVector.fromArray(S, c, off + L)).intoArray(c, off + L);
        v2.add(FloatVector.fromArray(S, c, off + 2 * L)).intoArray(c, off + 2 * L);
    }
}
