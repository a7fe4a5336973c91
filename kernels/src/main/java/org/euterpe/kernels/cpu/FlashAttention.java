package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.VectorMath.S;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Tensor;

/**
 * Scaled-dot-product attention, {@code softmax(scale * q k^T + mask) v}, flash-attention style:
 * queries are taken in blocks of {@link #QUERY_BLOCK} rows, keys in blocks of
 * {@link #KEY_BLOCK}, and an online softmax (running row max and row sum, rescaling the partial
 * output when the max grows) folds each key block into the output, so no {@code lq x lk} score
 * matrix is ever built: the working set of one block fits in L2.
 *
 * <p>Both products are the same register-tiled kernel, {@link #tile}, "C[4 rows] += A[4 rows]
 * B" with A's entries broadcast and B's rows vectorised: scores = Q K^T over the head dim (K is
 * packed transposed, {@code [d, lk]}, once per head so that keys are contiguous; this copy is
 * as large as k), and output += P V over the keys. Work is split over (batch, head, query
 * block).
 *
 * <p>A query row whose scores are all -inf (every key masked by -inf) comes out NaN, as torch's
 * softmax over all -inf does; a finite large negative mask (e.g. -1e9 or -FLT_MAX) instead gives
 * the softmax of the unmasked remainder, or a uniform average when every key has it.
 */
final class FlashAttention {
    private static final int L = S.length();
    /**
     * Query rows per task, a multiple of the tile height: each key block streamed from L2 is
     * reused by this many rows, and the task's scores and output stay in L1/L2.
     */
    static final int QUERY_BLOCK = 64;
    /** Keys per online-softmax step; a multiple of the tile width (2 vectors). */
    static final int KEY_BLOCK = 128;
    private static final int TILE_ROWS = 4;

    private FlashAttention() {
    }

    /**
     * @param q    {@code [batch, heads, lq, d]}
     * @param k    {@code [batch, heads, lk, d]}
     * @param v    {@code [batch, heads, lk, dv]}
     * @param mask additive, rank 4, each dim 1 or the matching size of {@code [batch, heads, lq, lk]}; or null
     * @return {@code [batch, heads, lq, dv]}
     */
    static Tensor attention(CpuBackendBase be, Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        OpShapes.Attention at = OpShapes.attention(q, k, v, mask);
        int batch = at.batch();
        int heads = at.heads();
        int lq = at.lq();
        int d = at.d();
        int lk = at.lk();
        int dv = at.dv();
        int[] maskStrides = at.maskStridesInt();
        Tensor out = be.newF32Empty(at.out());
        if (out.numel() == 0) {
            return out;
        }
        if (lk == 0) {
            throw new IllegalArgumentException("attention over zero keys: k is " + k.shape());
        }
        Task task = new Task(HostFloats.of(q), HostFloats.of(k), HostFloats.of(v), HostFloats.ofNullable(mask),
                maskStrides, scale, heads, lq, lk, d, dv, CpuBackendBase.heapArray(out));
        int queryBlocks = (lq + QUERY_BLOCK - 1) / QUERY_BLOCK;
        Parallel.forRange(batch * heads, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                task.pack(bh);
            }
        });
        Parallel.forRange(batch * heads * queryBlocks, 1, (from, to) -> {
            Scratch s = new Scratch(task);
            for (int t = from; t < to; t++) {
                task.run(t / queryBlocks, (t % queryBlocks) * QUERY_BLOCK, s);
            }
        });
        return out;
    }

    /** One call's operands, the packed K^T and V, and the per-block work. */
    private static final class Task {
        final HostFloats q;
        final HostFloats k;
        final HostFloats v;
        final HostFloats mask;
        final int[] maskStrides;
        final float scale;
        final int heads;
        final int lq;
        final int lk;
        final int d;
        final int dv;
        final float[] out;
        /** Keys padded to the tile width; padded keys score -inf. */
        final int lkPad;
        /** Row length of the V operand: dv padded to whole vectors when V is packed. */
        final int ldv;
        /** K^T per head, {@code [heads*batch][d][lkPad]}. */
        final float[] kt;
        /** V per head padded to {@code [lk][ldv]}, or null when v is used in place. */
        final float[] vPacked;

        Task(HostFloats q, HostFloats k, HostFloats v, HostFloats mask, int[] maskStrides, float scale, int heads,
                int lq, int lk, int d, int dv, float[] out) {
            this.q = q;
            this.k = k;
            this.v = v;
            this.mask = mask;
            this.maskStrides = maskStrides;
            this.scale = scale;
            this.heads = heads;
            this.lq = lq;
            this.lk = lk;
            this.d = d;
            this.dv = dv;
            this.out = out;
            int bh = out.length / (lq * dv);
            this.lkPad = roundUp(lk, 2 * L);
            this.kt = new float[Math.multiplyExact(bh * d, lkPad)];
            boolean pack = dv % L != 0;
            this.ldv = pack ? roundUp(dv, L) : dv;
            this.vPacked = pack ? new float[Math.multiplyExact(bh * lk, ldv)] : null;
        }

        /** Transposes head {@code bh}'s keys into K^T, and pads its V rows when needed. */
        void pack(int bh) {
            int src = k.off() + bh * lk * d;
            int dst = bh * d * lkPad;
            for (int j = 0; j < lk; j++) {
                for (int c = 0; c < d; c++) {
                    kt[dst + c * lkPad + j] = k.a()[src + j * d + c];
                }
            }
            if (vPacked != null) {
                for (int j = 0; j < lk; j++) {
                    System.arraycopy(v.a(), v.off() + (bh * lk + j) * dv, vPacked, (bh * lk + j) * ldv, dv);
                }
            }
        }

        /** Attention for head {@code bh}, query rows {@code [i0, i0 + QUERY_BLOCK)} (clipped to lq). */
        void run(int bh, int i0, Scratch s) {
            int rows = Math.min(QUERY_BLOCK, lq - i0);
            int rowsPad = roundUp(rows, TILE_ROWS);
            // Query rows copied to a buffer padded to whole tiles; padded rows are 0 and ignored.
            System.arraycopy(q.a(), q.off() + (bh * lq + i0) * d, s.q, 0, rows * d);
            Arrays.fill(s.q, rows * d, rowsPad * d, 0f);
            Arrays.fill(s.o, 0, rowsPad * ldv, 0f);
            Arrays.fill(s.m, Float.NEGATIVE_INFINITY);
            Arrays.fill(s.l, 0);
            float[] vArr = vPacked != null ? vPacked : v.a();
            int vHead = vPacked != null ? bh * lk * ldv : v.off() + bh * lk * dv;
            int ktHead = bh * d * lkPad;
            for (int j0 = 0; j0 < lk; j0 += KEY_BLOCK) {
                int width = Math.min(KEY_BLOCK, lkPad - j0); // a multiple of the tile width
                int valid = Math.min(width, lk - j0);
                for (int r = 0; r < rowsPad; r += TILE_ROWS) {
                    tile(s.q, r * d, d, kt, ktHead + j0, lkPad, s.p, r * KEY_BLOCK, KEY_BLOCK, d, width, false);
                }
                for (int r = 0; r < rows; r++) {
                    softmaxStep(bh, i0 + r, j0, r, width, valid, s);
                }
                for (int r = 0; r < rowsPad; r += TILE_ROWS) {
                    tile(s.p, r * KEY_BLOCK, KEY_BLOCK, vArr, vHead + j0 * ldv, ldv, s.o, r * ldv, ldv, valid, ldv,
                            true);
                }
            }
            for (int r = 0; r < rows; r++) {
                float inv = (float) (1 / s.l[r]); // l = 0 (all keys -inf) gives 0 * inf = NaN, as torch
                int dst = (bh * lq + i0 + r) * dv;
                for (int c = 0; c < dv; c += L) {
                    VectorMask<Float> m = S.indexInRange(c, dv);
                    FloatVector.fromArray(S, s.o, r * ldv + c, m).mul(inv).intoArray(out, dst + c, m);
                }
            }
        }

        /**
         * Turns query {@code i}'s raw scores for keys {@code [j0, j0 + width)} (row {@code r} of
         * the scratch P) into unnormalised probabilities against the running max, and rescales
         * the row's running sum and partial output when the max grows.
         */
        private void softmaxStep(int bh, int i, int j0, int r, int width, int valid, Scratch s) {
            float[] p = s.p;
            int row = r * KEY_BLOCK;
            int maskRow = mask == null ? 0
                    : mask.off() + (bh / heads) * maskStrides[0] + (bh % heads) * maskStrides[1] + i * maskStrides[2];
            FloatVector rowMax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < valid; j += L) {
                VectorMask<Float> m = S.indexInRange(j, valid);
                FloatVector sc = FloatVector.fromArray(S, p, row + j).mul(scale);
                if (mask != null) {
                    sc = sc.add(maskStrides[3] == 0 ? FloatVector.broadcast(S, mask.a()[maskRow])
                            : FloatVector.fromArray(S, mask.a(), maskRow + (j0 + j) * maskStrides[3], m));
                }
                sc.intoArray(p, row + j, m);
                rowMax = rowMax.lanewise(VectorOperators.MAX, sc, m);
            }
            Arrays.fill(p, row + valid, row + width, Float.NEGATIVE_INFINITY); // padded keys
            float mOld = s.m[r];
            float mNew = Math.max(mOld, rowMax.reduceLanes(VectorOperators.MAX));
            if (mNew == Float.NEGATIVE_INFINITY) {
                // Every key so far is -inf: contribute nothing (exp(-inf - -inf) would be NaN).
                Arrays.fill(p, row, row + width, 0f);
                return;
            }
            double blockSum = VectorMath.expShiftedSum(p, row, width, mNew);
            double alpha = Math.exp((double) mOld - mNew); // 0 on the first block, where mOld is -inf
            s.l[r] = s.l[r] * alpha + blockSum;
            s.m[r] = mNew;
            if (alpha != 1) {
                VectorOps.scale(s.o, r * ldv, ldv, (float) alpha);
            }
        }
    }

    /**
     * {@code C[4][cols] (+)= A[4][kdim] B[kdim][cols]}: four rows of A (row stride {@code lda})
     * against {@code kdim} rows of B (row stride {@code ldb}); {@code cols} is a multiple of the
     * vector length. Two vectors of columns at a time keep 8 accumulators in registers.
     */
    private static void tile(float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc,
            int kdim, int cols, boolean accumulate) {
        int a0 = ao;
        int a1 = ao + lda;
        int a2 = ao + 2 * lda;
        int a3 = ao + 3 * lda;
        int j = 0;
        for (; j + 2 * L <= cols; j += 2 * L) {
            FloatVector c00 = load(c, co + j, accumulate);
            FloatVector c01 = load(c, co + j + L, accumulate);
            FloatVector c10 = load(c, co + ldc + j, accumulate);
            FloatVector c11 = load(c, co + ldc + j + L, accumulate);
            FloatVector c20 = load(c, co + 2 * ldc + j, accumulate);
            FloatVector c21 = load(c, co + 2 * ldc + j + L, accumulate);
            FloatVector c30 = load(c, co + 3 * ldc + j, accumulate);
            FloatVector c31 = load(c, co + 3 * ldc + j + L, accumulate);
            for (int p = 0; p < kdim; p++) {
                int bp = bo + p * ldb + j;
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
                FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                x = FloatVector.broadcast(S, a[a1 + p]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                x = FloatVector.broadcast(S, a[a2 + p]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                x = FloatVector.broadcast(S, a[a3 + p]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
            }
            c00.intoArray(c, co + j);
            c01.intoArray(c, co + j + L);
            c10.intoArray(c, co + ldc + j);
            c11.intoArray(c, co + ldc + j + L);
            c20.intoArray(c, co + 2 * ldc + j);
            c21.intoArray(c, co + 2 * ldc + j + L);
            c30.intoArray(c, co + 3 * ldc + j);
            c31.intoArray(c, co + 3 * ldc + j + L);
        }
        if (j < cols) { // one vector of columns left
            FloatVector c0 = load(c, co + j, accumulate);
            FloatVector c1 = load(c, co + ldc + j, accumulate);
            FloatVector c2 = load(c, co + 2 * ldc + j, accumulate);
            FloatVector c3 = load(c, co + 3 * ldc + j, accumulate);
            for (int p = 0; p < kdim; p++) {
                FloatVector b0 = FloatVector.fromArray(S, b, bo + p * ldb + j);
                c0 = FloatVector.broadcast(S, a[a0 + p]).fma(b0, c0);
                c1 = FloatVector.broadcast(S, a[a1 + p]).fma(b0, c1);
                c2 = FloatVector.broadcast(S, a[a2 + p]).fma(b0, c2);
                c3 = FloatVector.broadcast(S, a[a3 + p]).fma(b0, c3);
            }
            c0.intoArray(c, co + j);
            c1.intoArray(c, co + ldc + j);
            c2.intoArray(c, co + 2 * ldc + j);
            c3.intoArray(c, co + 3 * ldc + j);
        }
    }

    private static FloatVector load(float[] c, int off, boolean accumulate) {
        return accumulate ? FloatVector.fromArray(S, c, off) : FloatVector.zero(S);
    }

    private static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    /** Per-worker buffers, reused across that worker's blocks. */
    private static final class Scratch {
        final float[] q;
        final float[] p = new float[QUERY_BLOCK * KEY_BLOCK];
        final float[] o;
        final float[] m = new float[QUERY_BLOCK];
        final double[] l = new double[QUERY_BLOCK];

        Scratch(Task t) {
            q = new float[QUERY_BLOCK * t.d];
            o = new float[QUERY_BLOCK * t.ldv];
        }
    }
}
