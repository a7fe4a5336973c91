package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM micro-kernel: {@code C += A B} on a {@code MR x NR} tile of C from a packed A panel
 * ({@code [kc][MR]}) and a packed B panel ({@code [kc][NR]}).
 *
 * <p>Two shapes, picked by the vector width. With 512-bit vectors (AVX-512: 32 vector registers)
 * the tile is 8 rows by 2 vectors: 16 accumulators, 2 B vectors and a broadcast; each B load
 * feeds 8 FMAs instead of 4. On the AVX-512 build machine, single thread, panels in L2, best of
 * 12 interleaved in one JVM (per-thread CPU time), it ran 1.13x (kc 128) to 1.44x (kc 256) the
 * 4x3 tile's rate; 12x2 was within 3% of 8x2, 8x3 and 6x4 slower. Narrower vectors (AVX2: 16
 * registers) keep the 4 x 3-vector tile, whose 12 accumulators plus 3 B vectors and a broadcast
 * fit exactly.
 *
 * <p>Keep each loop body free of calls that C2 might fail to inline: a kernel this size reaches
 * C2's node-count inlining cutoff, and one helper left out of line (e.g. a shared "add these
 * vectors into C" method) boxes its vectors and runs the whole kernel ~10x slower. That, not
 * register spills, is why earlier 8-row tiles measured "several times slower".
 */
final class GemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Whether the 8 x 2-vector tile is used (512-bit vectors), else 4 x 3 vectors. */
    static final boolean WIDE = S.vectorBitSize() >= 512;
    static final int MR = WIDE ? 8 : 4;
    static final int NR = (WIDE ? 2 : 3) * L;

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
        tile(kc, a, ai, b, bi, c, ci, ldc, rows, cols, scratch, c, ci, ldc);
    }

    /**
     * {@link #tile} that writes {@code C[r][j] = init[r][j] + sum_k A[k][r] * B[k][j]}, element
     * {@code (r, j)} of {@code init} at {@code ii + r * ild}: C's old contents are not read
     * (unless {@code init} is C itself, which is {@link #tile}). A GEMM's first depth slice
     * starts from its bias this way, so C needs neither zeroing nor a separate bias pass.
     */
    static void tile(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, int rows, int cols,
            float[] scratch, float[] init, int ii, int ild) {
        if (rows == MR && cols == NR) {
            if (WIDE) {
                multiply8x2(kc, a, ai, b, bi, c, ci, ldc, init, ii, ild);
            } else {
                multiply(kc, a, ai, b, bi, c, ci, ldc, init, ii, ild);
            }
            return;
        }
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                System.arraycopy(init, ii + r * ild, scratch, r * NR, cols);
            }
        }
        if (cols <= L) {
            if (WIDE) {
                multiplyOneVector8(kc, a, ai, b, bi, scratch);
            } else {
                multiplyOneVector(kc, a, ai, b, bi, scratch);
            }
        } else if (WIDE) {
            multiply8x2(kc, a, ai, b, bi, scratch, 0, NR, scratch, 0, NR);
        } else {
            multiply(kc, a, ai, b, bi, scratch, 0, NR, scratch, 0, NR);
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
    private static void multiply(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc,
            float[] init, int ii, int ild) {
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
        addInto(c, ci, init, ii, c00, c01, c02);
        addInto(c, r1, init, ii + ild, c10, c11, c12);
        addInto(c, r2, init, ii + 2 * ild, c20, c21, c22);
        addInto(c, r3, init, ii + 3 * ild, c30, c31, c32);
    }

    /** {@link #multiply} for the 8 x 2-vector tile ({@link #WIDE}); all code inline (see the class comment). */
    private static void multiply8x2(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc,
            float[] init, int ii, int ild) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        FloatVector c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int k = 0; k < kc; k++) {
            int bk = bi + k * NR;
            int ak = ai + k * MR;
            FloatVector b0 = FloatVector.fromArray(S, b, bk);
            FloatVector b1 = FloatVector.fromArray(S, b, bk + L);
            FloatVector av = FloatVector.broadcast(S, a[ak]);
            c00 = b0.fma(av, c00);
            c01 = b1.fma(av, c01);
            av = FloatVector.broadcast(S, a[ak + 1]);
            c10 = b0.fma(av, c10);
            c11 = b1.fma(av, c11);
            av = FloatVector.broadcast(S, a[ak + 2]);
            c20 = b0.fma(av, c20);
            c21 = b1.fma(av, c21);
            av = FloatVector.broadcast(S, a[ak + 3]);
            c30 = b0.fma(av, c30);
            c31 = b1.fma(av, c31);
            av = FloatVector.broadcast(S, a[ak + 4]);
            c40 = b0.fma(av, c40);
            c41 = b1.fma(av, c41);
            av = FloatVector.broadcast(S, a[ak + 5]);
            c50 = b0.fma(av, c50);
            c51 = b1.fma(av, c51);
            av = FloatVector.broadcast(S, a[ak + 6]);
            c60 = b0.fma(av, c60);
            c61 = b1.fma(av, c61);
            av = FloatVector.broadcast(S, a[ak + 7]);
            c70 = b0.fma(av, c70);
            c71 = b1.fma(av, c71);
        }
        c00.add(FloatVector.fromArray(S, init, ii)).intoArray(c, ci);
        c01.add(FloatVector.fromArray(S, init, ii + L)).intoArray(c, ci + L);
        c10.add(FloatVector.fromArray(S, init, ii + ild)).intoArray(c, ci + ldc);
        c11.add(FloatVector.fromArray(S, init, ii + ild + L)).intoArray(c, ci + ldc + L);
        c20.add(FloatVector.fromArray(S, init, ii + 2 * ild)).intoArray(c, ci + 2 * ldc);
        c21.add(FloatVector.fromArray(S, init, ii + 2 * ild + L)).intoArray(c, ci + 2 * ldc + L);
        c30.add(FloatVector.fromArray(S, init, ii + 3 * ild)).intoArray(c, ci + 3 * ldc);
        c31.add(FloatVector.fromArray(S, init, ii + 3 * ild + L)).intoArray(c, ci + 3 * ldc + L);
        c40.add(FloatVector.fromArray(S, init, ii + 4 * ild)).intoArray(c, ci + 4 * ldc);
        c41.add(FloatVector.fromArray(S, init, ii + 4 * ild + L)).intoArray(c, ci + 4 * ldc + L);
        c50.add(FloatVector.fromArray(S, init, ii + 5 * ild)).intoArray(c, ci + 5 * ldc);
        c51.add(FloatVector.fromArray(S, init, ii + 5 * ild + L)).intoArray(c, ci + 5 * ldc + L);
        c60.add(FloatVector.fromArray(S, init, ii + 6 * ild)).intoArray(c, ci + 6 * ldc);
        c61.add(FloatVector.fromArray(S, init, ii + 6 * ild + L)).intoArray(c, ci + 6 * ldc + L);
        c70.add(FloatVector.fromArray(S, init, ii + 7 * ild)).intoArray(c, ci + 7 * ldc);
        c71.add(FloatVector.fromArray(S, init, ii + 7 * ild + L)).intoArray(c, ci + 7 * ldc + L);
    }

    /** {@link #multiplyOneVector} for the 8-row tile. */
    private static void multiplyOneVector8(int kc, float[] a, int ai, float[] b, int bi, float[] c) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int k = 0; k < kc; k++) {
            int ak = ai + k * MR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi + k * NR);
            c0 = b0.fma(FloatVector.broadcast(S, a[ak]), c0);
            c1 = b0.fma(FloatVector.broadcast(S, a[ak + 1]), c1);
            c2 = b0.fma(FloatVector.broadcast(S, a[ak + 2]), c2);
            c3 = b0.fma(FloatVector.broadcast(S, a[ak + 3]), c3);
            c4 = b0.fma(FloatVector.broadcast(S, a[ak + 4]), c4);
            c5 = b0.fma(FloatVector.broadcast(S, a[ak + 5]), c5);
            c6 = b0.fma(FloatVector.broadcast(S, a[ak + 6]), c6);
            c7 = b0.fma(FloatVector.broadcast(S, a[ak + 7]), c7);
        }
        c0.add(FloatVector.fromArray(S, c, 0 * NR)).intoArray(c, 0 * NR);
        c1.add(FloatVector.fromArray(S, c, 1 * NR)).intoArray(c, 1 * NR);
        c2.add(FloatVector.fromArray(S, c, 2 * NR)).intoArray(c, 2 * NR);
        c3.add(FloatVector.fromArray(S, c, 3 * NR)).intoArray(c, 3 * NR);
        c4.add(FloatVector.fromArray(S, c, 4 * NR)).intoArray(c, 4 * NR);
        c5.add(FloatVector.fromArray(S, c, 5 * NR)).intoArray(c, 5 * NR);
        c6.add(FloatVector.fromArray(S, c, 6 * NR)).intoArray(c, 6 * NR);
        c7.add(FloatVector.fromArray(S, c, 7 * NR)).intoArray(c, 7 * NR);
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

    /** {@code c[off ..< off + NR] = (v0, v1, v2) + init[io ..< io + NR]}. */
    private static void addInto(float[] c, int off, float[] init, int io, FloatVector v0, FloatVector v1,
            FloatVector v2) {
        v0.add(FloatVector.fromArray(S, init, io)).intoArray(c, off);
        v1.add(FloatVector.fromArray(S, init, io + L)).intoArray(c, off + L);
        v2.add(FloatVector.fromArray(S, init, io + 2 * L)).intoArray(c, off + 2 * L);
    }
}
