package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.VectorMath.S;

import java.util.Arrays;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Tensor;

/**
 * Scaled-dot-product attention, {@code softmax(scale * q k^T + mask) v}, flash-attention style:
 * queries are taken in blocks of {@link #QUERY_BLOCK} rows, keys in blocks of
 * {@link #KEY_BLOCK}, and an online softmax (running row max and row sum, rescaling the partial
 * output when the max grows) folds each key block into the output, so no {@code lq x lk} score
 * matrix is ever built: the working set of one block fits in L2.
 *
 * <p>Both products are the same register-tiled kernel, {@link #tile}, "C[8 rows] += A[8 rows]
 * B" with A's entries broadcast and B's rows vectorised: scores = (scale Q) K^T over the head
 * dim (K is packed transposed, {@code [d, KEY_BLOCK]} per key block, once per head so that keys
 * are contiguous; this copy is as large as k), and output += P V over the keys. For each key block, one tile of 8
 * query rows goes through scores, softmax and P V before the next, so its probabilities are
 * written and read back in L1, and the key block's K^T and V stay in L1 across the tiles. Work
 * is split over (batch, head, query block).
 *
 * <p>The softmax exponentials use {@link VectorMath#expNonPositive} (scores minus the row max
 * are at most 0): as accurate as the general exp, but probabilities below FLT_MIN are 0. Each
 * row's sum is kept as lanes, float within a key block and double across blocks, and reduced
 * once at the end; the row's sum and partial output are rescaled by the same float factor when
 * the max grows, so its rounding cancels.
 *
 * <p>A query row whose scores are all -inf (every key masked by -inf) comes out NaN, as torch's
 * softmax over all -inf does; a finite large negative mask (e.g. -1e9 or -FLT_MAX) instead gives
 * the softmax of the unmasked remainder, or a uniform average when every key has it.
 */
final class FlashAttention {
    private static final int L = S.length();
    /** Doubles of the float vector's size: half as many lanes. */
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, S.vectorShape());
    /**
     * Query rows per task, a multiple of the tile height: each key block streamed from L2 is
     * reused by this many rows, and the task's scores and output stay in L1/L2.
     */
    static final int QUERY_BLOCK = 64;
    /**
     * Keys per online-softmax step; a multiple of the tile width (2 vectors). A block's K^T and V
     * (2 x 128 x d floats, 32 KiB at d = 32) stay in the 48 KiB L1 while the tiles of rows pass.
     */
    static final int KEY_BLOCK = 128;
    private static final int TILE_ROWS = 8;
    /** K^T and padded V of one call, reused by the next (see {@link Workspace}). */
    private static final Workspace KT = new Workspace();
    private static final Workspace V_PACKED = new Workspace();

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
        try {
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
        } finally {
            KT.give(task.kt);
            if (task.vPacked != null) {
                V_PACKED.give(task.vPacked);
            }
        }
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
        /**
         * K^T per head and key block, {@code [heads*batch][key blocks][d][KEY_BLOCK]}: each block's
         * K^T contiguous (16 KiB at d = 32), not {@code d} rows of the whole {@code [d][lkPad]},
         * whose 4 KiB stride at 1024 keys put every row of a block in the same few L1 sets
         * (measured 0.93-0.95x the time at [2, 8, 1024, 32], 1 thread, alternating in one JVM;
         * unchanged at 256 and 64 keys).
         */
        final float[] kt;
        /** Floats of one head's K^T. */
        final int ktStride;
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
            // From workspaces, contents undefined: pack() writes every key and value used; the
            // padding keys' scores are replaced by -inf and padding columns of V never leave.
            this.ktStride = Math.multiplyExact(roundUp(lkPad, KEY_BLOCK), d);
            this.kt = KT.take(Math.multiplyExact((long) bh, ktStride));
            boolean pack = dv % L != 0;
            this.ldv = pack ? roundUp(dv, L) : dv;
            this.vPacked = pack ? V_PACKED.take(Math.multiplyExact((long) bh * lk, ldv)) : null;
        }

        /** Transposes head {@code bh}'s keys into K^T, and pads its V rows when needed. */
        void pack(int bh) {
            int src = k.off() + bh * lk * d;
            int dst = bh * ktStride;
            for (int j = 0; j < lk; j++) {
                int to = dst + j / KEY_BLOCK * d * KEY_BLOCK + j % KEY_BLOCK;
                for (int c = 0; c < d; c++) {
                    kt[to + c * KEY_BLOCK] = k.a()[src + j * d + c];
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
            // Query rows times the scale, in a buffer padded to whole tiles; padded rows are 0
            // (scores 0, probabilities never computed, output rows ignored).
            int qo = q.off() + (bh * lq + i0) * d;
            for (int c = 0; c < rows * d; c += L) {
                VectorMask<Float> m = S.indexInRange(c, rows * d);
                FloatVector.fromArray(S, q.a(), qo + c, m).mul(scale).intoArray(s.q, c, m);
            }
            Arrays.fill(s.q, rows * d, rowsPad * d, 0f);
            Arrays.fill(s.o, 0, rowsPad * ldv, 0f);
            Arrays.fill(s.m, Float.NEGATIVE_INFINITY);
            Arrays.fill(s.l, 0);
            float[] vArr = vPacked != null ? vPacked : v.a();
            int vHead = vPacked != null ? bh * lk * ldv : v.off() + bh * lk * dv;
            int ktHead = bh * ktStride;
            for (int j0 = 0; j0 < lk; j0 += KEY_BLOCK) {
                int width = Math.min(KEY_BLOCK, lkPad - j0); // a multiple of the tile width
                int valid = Math.min(width, lk - j0);
                // One tile of rows at a time through scores, softmax and output, so that its
                // probabilities stay in L1 between the two products; the key block's K^T and V
                // stay in L1 across the tiles.
                for (int r = 0; r < rowsPad; r += TILE_ROWS) {
                    tile(s.q, r * d, d, kt, ktHead + j0 * d, KEY_BLOCK, s.p, 0, KEY_BLOCK, d, width, false);
                    softmaxStep(bh, i0 + r, r, Math.min(TILE_ROWS, rows - r), j0, width, valid, s);
                    tile(s.p, 0, KEY_BLOCK, vArr, vHead + j0 * ldv, ldv, s.o, r * ldv, ldv, valid, ldv, true);
                }
            }
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                for (int i = 0; i < L; i++) {
                    sum += s.l[r * L + i];
                }
                float inv = (float) (1 / sum); // sum = 0 (all keys -inf) gives 0 * inf = NaN, as torch
                int dst = (bh * lq + i0 + r) * dv;
                for (int c = 0; c < dv; c += L) {
                    VectorMask<Float> m = S.indexInRange(c, dv);
                    FloatVector.fromArray(S, s.o, r * ldv + c, m).mul(inv).intoArray(out, dst + c, m);
                }
            }
        }

        /**
         * Turns the scaled scores of queries {@code [i, i + n)} for keys {@code [j0, j0 + width)}
         * (rows of the scratch P) into unnormalised probabilities against the running max, adds
         * them to the running sums of scratch rows {@code [r, r + n)}, and rescales those sums
         * and the rows' partial outputs by {@code e^(old max - new max)}. All maxima first, then
         * all exponentials: each row's max is a chain of dependent operations, and the rows'
         * chains overlap this way instead of stalling each row's exponentials.
         */
        private void softmaxStep(int bh, int i, int r, int n, int j0, int width, int valid, Scratch s) {
            float[] p = s.p;
            for (int t = 0; t < n; t++) {
                int row = t * KEY_BLOCK;
                if (mask != null) {
                    int maskRow = mask.off() + (bh / heads) * maskStrides[0] + (bh % heads) * maskStrides[1]
                            + (i + t) * maskStrides[2];
                    addMask(p, row, valid, mask.a(), maskRow + j0 * maskStrides[3], maskStrides[3]);
                }
                Arrays.fill(p, row + valid, row + width, Float.NEGATIVE_INFINITY); // padded keys
                float mOld = s.m[r + t];
                float mNew = Math.max(mOld, max(p, row, width));
                s.m[r + t] = mNew;
                // Unconditional (alpha 1 while the max holds) rather than an unpredictable branch;
                // 0 before the first finite score, where sum and output are still 0.
                float diff = mNew == Float.NEGATIVE_INFINITY ? 0 : mOld - mNew;
                rescale(diff, s.l, (r + t) * L, s.o, (r + t) * ldv, ldv);
            }
            for (int t = 0; t < n; t++) {
                int row = t * KEY_BLOCK;
                float m = s.m[r + t];
                if (m == Float.NEGATIVE_INFINITY) {
                    // Every key so far is -inf: contribute nothing (exp(-inf - -inf) would be NaN).
                    Arrays.fill(p, row, row + width, 0f);
                } else {
                    expAndSum(p, row, width, m, s.l, (r + t) * L);
                }
            }
        }
    }

    /**
     * Multiplies a row's sum lanes {@code l[lo, lo + L)} and its output {@code o[oo, oo + n)}
     * (n a multiple of the vector length) by {@code e^diff}, {@code diff <= 0}. Both by the same
     * float factor, so that its rounding cancels in the final quotient.
     */
    private static void rescale(float diff, double[] l, int lo, float[] o, int oo, int n) {
        // The scalar exp: with the vector one inlined here too, softmaxStep's compile could run
        // out of C2's node budget and call expAndSum's exp out of line, boxing every vector.
        float a = VectorMath.expNonPositive(diff);
        FloatVector alpha = FloatVector.broadcast(S, a);
        DoubleVector alphaD = DoubleVector.broadcast(D, a);
        for (int c = 0; c < L; c += D.length()) {
            DoubleVector.fromArray(D, l, lo + c).mul(alphaD).intoArray(l, lo + c);
        }
        for (int c = 0; c < n; c += L) {
            FloatVector.fromArray(S, o, oo + c).mul(alpha).intoArray(o, oo + c);
        }
    }

    /** {@code p[po + j] += mask[mo + j * stride]} for {@code j < n}; stride 0 broadcasts one value. */
    private static void addMask(float[] p, int po, int n, float[] mask, int mo, int stride) {
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = S.indexInRange(j, n);
            FloatVector add = stride == 0 ? FloatVector.broadcast(S, mask[mo])
                    : FloatVector.fromArray(S, mask, mo + j * stride, m);
            FloatVector.fromArray(S, p, po + j, m).add(add).intoArray(p, po + j, m);
        }
    }

    /**
     * The largest of {@code a[off, off + n)}, n a multiple of two vectors; NaNs are skipped (they
     * reach the output through the exponentials anyway). Compare-and-blend rather than the
     * API's MAX, whose NaN and -0 rules cost a longer dependent sequence per step, in two
     * independent chains.
     */
    private static float max(float[] a, int off, int n) {
        FloatVector m0 = FloatVector.fromArray(S, a, off);
        FloatVector m1 = FloatVector.fromArray(S, a, off + L);
        for (int j = 2 * L; j < n; j += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(S, a, off + j);
            FloatVector x1 = FloatVector.fromArray(S, a, off + j + L);
            m0 = m0.blend(x0, m0.lt(x0));
            m1 = m1.blend(x1, m1.lt(x1));
        }
        return m0.blend(m1, m0.lt(m1)).reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@code p[off + j] = exp(p[off + j] - shift)} for {@code j < n} (a multiple of the vector
     * length, every value at most {@code shift}), adding the results lane-wise into the row sum
     * {@code l[lo, lo + L)}: float within the block, double across blocks.
     */
    private static void expAndSum(float[] p, int off, int n, float shift, double[] l, int lo) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < n; j += L) {
            FloatVector e = VectorMath.expNonPositive(FloatVector.fromArray(S, p, off + j).sub(shift));
            e.intoArray(p, off + j);
            acc = acc.add(e);
        }
        for (int part = 0; part < 2; part++) {
            int at = lo + part * D.length();
            DoubleVector.fromArray(D, l, at).add(acc.convertShape(VectorOperators.F2D, D, part)).intoArray(l, at);
        }
    }

    /**
     * {@code C[8][cols] (+)= A[8][kdim] B[kdim][cols]}: eight rows of A (row stride {@code lda})
     * against {@code kdim} rows of B (row stride {@code ldb}); {@code cols} is a multiple of the
     * vector length. Two vectors of columns at a time keep 16 accumulators in registers, enough
     * independent FMAs to cover their latency on both FMA ports. The two column widths are
     * separate methods: as one, C2's inlining budget ran out in the second loop, whose vectors
     * were then boxed.
     */
    private static void tile(float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc,
            int kdim, int cols, boolean accumulate) {
        int j = 0;
        for (; j + 2 * L <= cols; j += 2 * L) {
            tile2(a, ao, lda, b, bo + j, ldb, c, co + j, ldc, kdim, accumulate);
        }
        if (j < cols) { // one vector of columns left
            tile1(a, ao, lda, b, bo + j, ldb, c, co + j, ldc, kdim, accumulate);
        }
    }

    /** {@link #tile} for two vectors of columns at {@code bo} in B and {@code c0} in C. */
    private static void tile2(float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int c0, int ldc,
            int kdim, boolean accumulate) {
        FloatVector c00 = load(c, c0, accumulate);
        FloatVector c01 = load(c, c0 + L, accumulate);
        FloatVector c10 = load(c, c0 + ldc, accumulate);
        FloatVector c11 = load(c, c0 + ldc + L, accumulate);
        FloatVector c20 = load(c, c0 + 2 * ldc, accumulate);
        FloatVector c21 = load(c, c0 + 2 * ldc + L, accumulate);
        FloatVector c30 = load(c, c0 + 3 * ldc, accumulate);
        FloatVector c31 = load(c, c0 + 3 * ldc + L, accumulate);
        FloatVector c40 = load(c, c0 + 4 * ldc, accumulate);
        FloatVector c41 = load(c, c0 + 4 * ldc + L, accumulate);
        FloatVector c50 = load(c, c0 + 5 * ldc, accumulate);
        FloatVector c51 = load(c, c0 + 5 * ldc + L, accumulate);
        FloatVector c60 = load(c, c0 + 6 * ldc, accumulate);
        FloatVector c61 = load(c, c0 + 6 * ldc + L, accumulate);
        FloatVector c70 = load(c, c0 + 7 * ldc, accumulate);
        FloatVector c71 = load(c, c0 + 7 * ldc + L, accumulate);
        for (int p = 0; p < kdim; p++) {
            int bp = bo + p * ldb;
            int ap = ao + p;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ap + lda]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ap + 2 * lda]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ap + 3 * lda]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ap + 4 * lda]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ap + 5 * lda]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ap + 6 * lda]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ap + 7 * lda]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + L);
        c10.intoArray(c, c0 + ldc);
        c11.intoArray(c, c0 + ldc + L);
        c20.intoArray(c, c0 + 2 * ldc);
        c21.intoArray(c, c0 + 2 * ldc + L);
        c30.intoArray(c, c0 + 3 * ldc);
        c31.intoArray(c, c0 + 3 * ldc + L);
        c40.intoArray(c, c0 + 4 * ldc);
        c41.intoArray(c, c0 + 4 * ldc + L);
        c50.intoArray(c, c0 + 5 * ldc);
        c51.intoArray(c, c0 + 5 * ldc + L);
        c60.intoArray(c, c0 + 6 * ldc);
        c61.intoArray(c, c0 + 6 * ldc + L);
        c70.intoArray(c, c0 + 7 * ldc);
        c71.intoArray(c, c0 + 7 * ldc + L);
    }

    /** {@link #tile} for one vector of columns at {@code bo} in B and {@code c0} in C. */
    private static void tile1(float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int c0, int ldc,
            int kdim, boolean accumulate) {
        FloatVector c00 = load(c, c0, accumulate);
        FloatVector c10 = load(c, c0 + ldc, accumulate);
        FloatVector c20 = load(c, c0 + 2 * ldc, accumulate);
        FloatVector c30 = load(c, c0 + 3 * ldc, accumulate);
        FloatVector c40 = load(c, c0 + 4 * ldc, accumulate);
        FloatVector c50 = load(c, c0 + 5 * ldc, accumulate);
        FloatVector c60 = load(c, c0 + 6 * ldc, accumulate);
        FloatVector c70 = load(c, c0 + 7 * ldc, accumulate);
        for (int p = 0; p < kdim; p++) {
            int ap = ao + p;
            FloatVector b0 = FloatVector.fromArray(S, b, bo + p * ldb);
            c00 = FloatVector.broadcast(S, a[ap]).fma(b0, c00);
            c10 = FloatVector.broadcast(S, a[ap + lda]).fma(b0, c10);
            c20 = FloatVector.broadcast(S, a[ap + 2 * lda]).fma(b0, c20);
            c30 = FloatVector.broadcast(S, a[ap + 3 * lda]).fma(b0, c30);
            c40 = FloatVector.broadcast(S, a[ap + 4 * lda]).fma(b0, c40);
            c50 = FloatVector.broadcast(S, a[ap + 5 * lda]).fma(b0, c50);
            c60 = FloatVector.broadcast(S, a[ap + 6 * lda]).fma(b0, c60);
            c70 = FloatVector.broadcast(S, a[ap + 7 * lda]).fma(b0, c70);
        }
        c00.intoArray(c, c0);
        c10.intoArray(c, c0 + ldc);
        c20.intoArray(c, c0 + 2 * ldc);
        c30.intoArray(c, c0 + 3 * ldc);
        c40.intoArray(c, c0 + 4 * ldc);
        c50.intoArray(c, c0 + 5 * ldc);
        c60.intoArray(c, c0 + 6 * ldc);
        c70.intoArray(c, c0 + 7 * ldc);
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
        final float[] o;
        final float[] p = new float[TILE_ROWS * KEY_BLOCK];
        final float[] m = new float[QUERY_BLOCK];
        /** Per query row, the running softmax denominator as {@code L} lane sums. */
        final double[] l = new double[QUERY_BLOCK * L];

        Scratch(Task t) {
            q = new float[QUERY_BLOCK * t.d];
            o = new float[QUERY_BLOCK * t.ldv];
        }
    }
}
