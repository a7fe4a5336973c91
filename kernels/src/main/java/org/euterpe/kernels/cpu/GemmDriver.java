package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.GemmKernel.MR;
import static org.euterpe.kernels.cpu.GemmKernel.NR;

/**
 * The blocked GEMM loops around {@link GemmKernel} (GotoBLAS/BLIS style): for each NC-wide
 * column block and KC-deep slice, B is packed once and stays in L2, reused by every MC-tall
 * block of packed A. Innermost, as in BLIS, one B micro-panel ({@code KC x NR}, 32 KiB with
 * 512-bit vectors) stays in L1 while the A micro-panels ({@code KC x MR}, 8 KiB each) stream
 * past it from L2. On the
 * AVX-512 build machine this order measured 1.1-1.4x faster than the reverse (A micro-panel in
 * L1, B micro-panels streamed from L2) at the U-Net's conv and linear shapes, single-threaded,
 * best of 6 interleaved runs; only a 64-column conv (640 channels on a 32x2 image) was slower,
 * 0.86x.
 *
 * <p>Work is split into independent (batch entry, row range, column range) units, several per
 * thread and claimed dynamically ({@link Parallel#forChunks}), each packing its own operands into
 * per-thread buffers, so threads never wait on each other and steady-state calls allocate
 * nothing large. Every unit runs the whole K loop for its outputs, in the same slices, so each
 * element's sum is the same whichever thread (and however many threads) computes it.
 */
final class GemmDriver {
    // Block sizes (tunable for experiments with -Deuterpe.gemm.kc/mc/nc): KC x NC of packed B
    // (1 MB) must stay in L2 next to the MC x KC block of packed A. KC 256 rather than 128: every
    // depth slice reads and writes the whole C block once more, which for a large C (2048 x 2048)
    // streams from L3; on the AVX-512 build machine, 1 thread, per-thread CPU time, best of 3
    // alternating runs, KC 256 took 0.80x the time at 2048^3, 0.80-0.95x at the U-Net's linear
    // and convolution shapes (one im2col conv 1.1x, within the noise of a loaded machine).
    static final int KC = Integer.getInteger("euterpe.gemm.kc", 256);
    static final int MC = GemmKernel.MR * Math.max(1, Integer.getInteger("euterpe.gemm.mc", 128) / GemmKernel.MR);
    static final int NC = NR * Math.max(1, Integer.getInteger("euterpe.gemm.nc", 1024) / NR);

    /** The most floats of one packed operand shared by a call's units (16 MB), held by the calling thread. */
    private static final long MAX_SHARED = 1 << 22;
    private static final ThreadLocal<float[]> SHARED_A = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> SHARED_B = ThreadLocal.withInitial(() -> new float[0]);
    /** Below this much work (multiply-adds) in a whole call, waking the workers costs more than it saves. */
    private static final double MIN_PARALLEL_FLOPS = 2e6;

    private GemmDriver() {
    }

    /**
     * Where results go: element {@code (batch, m, n)} of C at
     * {@code c[off + batch * batchStride + m * ldc + n]}, updated as
     * {@code C += op(A) op(B) + colBias[n] + rowBias[m]}.
     *
     * @param colBias per-column bias ({@code [N]}) or null
     * @param rowBias per-row bias ({@code [M]}) or null
     */
    record Output(float[] c, int off, int batchStride, int ldc, float[] colBias, float[] rowBias, boolean overwrite) {
        /** An output that is accumulated into: C's contents on entry are added to. */
        Output(float[] c, int off, int batchStride, int ldc, float[] colBias, float[] rowBias) {
            this(c, off, batchStride, ldc, colBias, rowBias, false);
        }

        /**
         * An output whose contents on entry are ignored ({@code C = op(A) op(B) + bias}): the first
         * depth slice of each tile stores its sum plus the bias instead of adding to C, so C needs no
         * zeroing and the bias no pass of its own (together 3-5 % of the U-Net step before).
         */
        static Output overwrite(float[] c, int off, int batchStride, int ldc, float[] colBias, float[] rowBias) {
            return new Output(c, off, batchStride, ldc, colBias, rowBias, true);
        }
    }

    /** Per-thread packing buffers, sized once for the largest blocks; the last is the first slice's start tile. */
    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(
            () -> new float[][] {new float[MC * KC], new float[KC * NC], new float[MR * NR], new float[MR * NR]});
    /** The start tile of an overwritten output without bias. */
    private static final float[] ZERO_TILE = new float[MR * NR];
    private static final jdk.incubator.vector.VectorSpecies<Float> S = GemmKernel.S;

    /**
     * C += op(A) op(B) for {@code batches} independent problems of {@code [m, k] x [k, n]},
     * multi-threaded.
     *
     * @param a packs op(A), {@code [m, k]}
     * @param b packs op(B) transposed, {@code [n, k]}
     */
    static void gemm(int batches, int m, int n, int k, PanelPacker a, PanelPacker b, Output out) {
        if (batches == 0 || m == 0 || n == 0) {
            return;
        }
        boolean parallel = 2.0 * batches * m * n * Math.max(k, 1) > MIN_PARALLEL_FLOPS;
        if (batches > 1 && a.batchInvariant() && acrossBatches(batches, m, n, k, a, b, parallel, out)) {
            return;
        }
        Split s = Split.of(batches, m, n, k, parallel ? Parallel.chunkTarget() : 1);
        float[] sharedA = s.nSplit > 1 && s.mSplit == 1 ? packAll(batches, m, k, a, MR, MC, 0, SHARED_A) : null;
        float[] sharedB = s.mSplit > 1 && s.nSplit == 1 ? packAll(batches, n, k, b, NR, NC, 1, SHARED_B) : null;
        Parallel.Chunk unit = u -> {
            int batch = u / (s.mSplit * s.nSplit);
            int mi = (u / s.nSplit) % s.mSplit;
            int ni = u % s.nSplit;
            int m0 = MR * (int) ((long) s.mTiles * mi / s.mSplit);
            int m1 = Math.min(m, MR * (int) ((long) s.mTiles * (mi + 1) / s.mSplit));
            int n0 = NR * (int) ((long) s.nTiles * ni / s.nSplit);
            int n1 = Math.min(n, NR * (int) ((long) s.nTiles * (ni + 1) / s.nSplit));
            block(batch, m0, m1, n0, n1, k, a, b, sharedA, sharedB, -1, -1, out);
        };
        int units = batches * s.mSplit * s.nSplit;
        if (parallel) {
            Parallel.forChunks(units, unit);
        } else {
            for (int u = 0; u < units; u++) {
                unit.run(u);
            }
        }
    }

    /**
     * A shared by every batch entry (a convolution's filters over the CFG batch), where B is
     * narrow enough that packing A is a large share of the work: units of row blocks that each
     * pack their rows of A once and run them against every batch entry's B (packed once for all
     * units, {@link #packAll}), instead of one unit (and one packing of A) per batch entry. Each
     * element's sum runs through the same depth slices in the same order, so the result is the
     * same. False (nothing done) where B does not fit {@link #packAll}'s cap or is wide
     * ({@code n > NC}: then A is packed once per NC columns anyway and is a small share).
     */
    private static boolean acrossBatches(int batches, int m, int n, int k, PanelPacker a, PanelPacker b,
            boolean parallel, Output out) {
        if (n > NC || !shares(batches, n, k, NR)) {
            return false;
        }
        int mTiles = ceilDiv(m, MR);
        int units = parallel ? Math.max(1, Math.min(mTiles, Parallel.chunkTarget())) : 1;
        float[] sharedB = packAll(batches, n, k, b, NR, NC, 1, SHARED_B);
        Parallel.Chunk unit = u -> {
            int m0 = MR * (int) ((long) mTiles * u / units);
            int m1 = Math.min(m, MR * (int) ((long) mTiles * (u + 1) / units));
            blockAcrossBatches(batches, m0, m1, n, k, a, sharedB, out);
        };
        if (parallel) {
            Parallel.forChunks(units, unit);
        } else {
            for (int u = 0; u < units; u++) {
                unit.run(u);
            }
        }
        return true;
    }

    /**
     * {@link #block} over rows {@code [m0, m1)} and all {@code n <= NC} columns of every batch
     * entry: each MC x KC block of A (the same for every entry) is packed once and run against
     * each entry's packed B.
     */
    private static void blockAcrossBatches(int batches, int m0, int m1, int n, int k, PanelPacker a,
            float[] sharedB, Output out) {
        float[][] buf = BUFFERS.get();
        float[] packA = buf[0];
        float[] scratch = buf[2];
        float[] c = out.c();
        int ldc = out.ldc();
        int pc = 0;
        do {
            int kc = Math.min(KC, k - pc);
            for (int ic = m0; ic < m1; ic += MC) {
                int mc = Math.min(MC, m1 - ic);
                a.pack(0, ic, mc, pc, kc, MR, packA);
                for (int batch = 0; batch < batches; batch++) {
                    int cBase = out.off() + batch * out.batchStride();
                    int bOff = sharedOffset(batch, 0, n, pc, n, k, NR);
                    boolean start = pc == 0 && out.overwrite();
                    if (pc == 0 && !start) {
                        addBias(out, c, cBase, ic, mc, 0, n);
                    }
                    for (int jr = 0; jr < n; jr += NR) {
                        for (int ir = 0; ir < mc; ir += MR) {
                            int ci = cBase + (ic + ir) * ldc + jr;
                            int rows = Math.min(MR, mc - ir);
                            int cols = Math.min(NR, n - jr);
                            if (start) {
                                GemmKernel.tile(kc, packA, ir * kc, sharedB, bOff + jr * kc, c, ci, ldc, rows, cols,
                                        scratch, startTile(out, ic + ir, rows, jr, cols, buf[3]), 0, NR);
                            } else {
                                GemmKernel.tile(kc, packA, ir * kc, sharedB, bOff + jr * kc, c, ci, ldc, rows, cols,
                                        scratch);
                            }
                        }
                    }
                }
            }
            pc += KC;
        } while (pc < k);
    }

    /**
     * All of one operand, packed once for the units that share it (every column block of a
     * batch entry needs all its rows of A, every row block all its columns of B): otherwise each
     * unit repacks it, which for a convolution's B means rebuilding the im2col tiles once per
     * unit. Laid out as {@link #block} walks it: per batch entry ({@link #sharedBatchSize}
     * floats), the {@code blockRows}-tall row blocks in order, each as its KC-deep slices in
     * order ({@link #sharedOffset}). Null when it would not fit the cap (units then pack their own).
     *
     * @param rows the operand's rows ({@code m} for A, {@code n} for B), packed in panels of {@code r}
     */
    private static float[] packAll(int batches, int rows, int k, PanelPacker p, int r, int blockRows, int which,
            ThreadLocal<float[]> holder) {
        if (!shares(batches, rows, k, r)) {
            return null;
        }
        long size = batches * sharedBatchSize(rows, k, r);
        float[] dst = ThreadScratch.floats(holder, size);
        int blocks = ceilDiv(rows, blockRows);
        int slices = ceilDiv(k, KC);
        Parallel.forChunks(batches * blocks * slices, u -> {
            int batch = u / (blocks * slices);
            int i0 = (u / slices) % blocks * blockRows;
            int pc = u % slices * KC;
            int count = Math.min(blockRows, rows - i0);
            int kc = Math.min(KC, k - pc);
            float[] scratch = BUFFERS.get()[which];
            p.pack(batch, i0, count, pc, kc, r, scratch);
            System.arraycopy(scratch, 0, dst, sharedOffset(batch, i0, count, pc, rows, k, r),
                    ceilDiv(count, r) * r * kc);
        });
        return dst;
    }

    /**
     * C += A B for both operands already in {@link #packAll}'s layout (each element where
     * {@link #packedSize} and {@link #packedRun} place it), as a caller that builds its operands
     * itself lays them out: no packing at all, one unit per batch entry.
     */
    static void gemmPacked(int batches, int m, int n, int k, float[] a, float[] b, Output out) {
        gemmPacked(batches, m, n, k, a, -1, b, -1, out);
    }

    /**
     * {@link #gemmPacked} with batch entry {@code e} of A at {@code a[e * aStride ..]} and of B at
     * {@code b[e * bStride ..]} (each at least {@link #packedSize}; -1 for exactly that): a
     * caller whose batch entries are planes written side by side pads them apart, so that they
     * do not all fall in the same L1 sets.
     */
    static void gemmPacked(int batches, int m, int n, int k, float[] a, long aStride, float[] b, long bStride,
            Output out) {
        Parallel.forChunks(batches, batch -> block(batch, 0, m, 0, n, k, null, null, a, b, aStride, bStride, out));
    }

    /**
     * C += A B for A already in {@link #packAll}'s layout (as {@link #gemmPacked}) and B packed
     * by {@code b} as the blocks are reached; each batch entry's columns are cut into
     * {@code colSplits} units of whole {@code NR}-column panels, so that a few batch entries still
     * keep every thread busy (each unit packs only its own columns of B).
     */
    static void gemmPackedA(int batches, int m, int n, int k, float[] a, PanelPacker b, Output out, int colSplits) {
        int panels = ceilDiv(n, NR);
        int splits = Math.max(1, Math.min(colSplits, panels));
        Parallel.forChunks(batches * splits, u -> {
            int s = u % splits;
            int n0 = NR * (int) ((long) panels * s / splits);
            int n1 = Math.min(n, NR * (int) ((long) panels * (s + 1) / splits));
            block(u / splits, 0, m, n0, n1, k, null, b, a, null, -1, -1, out);
        });
    }

    /** Floats of one batch entry of a packed operand with {@code rows} rows of depth {@code k}: A ({@code left}) or B. */
    static long packedSize(int rows, int k, boolean left) {
        return sharedBatchSize(rows, k, left ? MR : NR);
    }

    /**
     * Where, in batch entry 0 of a packed operand, the run of row {@code row} through the depth
     * slice that starts at {@code pc} (a multiple of {@link #KC}) begins: element
     * {@code (row, pc + kk)} is at that index plus {@code kk * r} ({@code r = MR} for A,
     * {@code NR} for B); batch entry {@code b} adds {@code b * packedSize(rows, k, left)}.
     */
    static int packedRun(int row, int pc, int rows, int k, boolean left) {
        int r = left ? MR : NR;
        int blockRows = left ? MC : NC;
        int i0 = row / blockRows * blockRows;
        int count = Math.min(blockRows, rows - i0);
        int kc = Math.min(KC, k - pc);
        return sharedOffset(0, i0, count, pc, rows, k, r) + (row - i0) / r * r * kc + (row - i0) % r;
    }

    private static boolean shares(int batches, int rows, int k, int r) {
        return k > 0 && batches * sharedBatchSize(rows, k, r) <= MAX_SHARED;
    }

    /** Floats of one batch entry's packed operand: every row padded to whole panels, times the depth. */
    private static long sharedBatchSize(int rows, int k, int r) {
        return (long) ceilDiv(rows, r) * r * k;
    }

    /** Where the packed block of rows {@code [i0, i0 + count)}, slice {@code pc}, of a batch entry starts in a shared operand. */
    private static int sharedOffset(int batch, int i0, int count, int pc, int rows, int k, int r) {
        return (int) (batch * sharedBatchSize(rows, k, r) + (long) i0 * k + (long) ceilDiv(count, r) * r * pc);
    }

    /**
     * How one batch entry's C is cut into work units: {@code mSplit x nSplit} blocks of whole
     * tiles. Each unit packs its own rows of A and columns of B, so splitting the rows repacks
     * all of B once more, and splitting the columns repacks A (already repacked for every {@link #NC} columns), unless the units share one packed
     * copy ({@link #packAll}); the split asks for enough units per batch entry to reach the chunk
     * target and picks the shape that packs the fewest extra elements.
     */
    record Split(int mTiles, int nTiles, int mSplit, int nSplit) {
        /** Below this much work per unit (multiply-adds), splitting further costs more than it balances. */
        private static final double MIN_UNIT_FLOPS = 1e6;

        static Split of(int batches, int m, int n, int k, int target) {
            int mTiles = ceilDiv(m, MR);
            int nTiles = ceilDiv(n, NR);
            double flops = 2.0 * m * n * Math.max(k, 1);
            int perBatch = (int) Math.min(ceilDiv(target, batches), Math.max(1, flops / MIN_UNIT_FLOPS));
            int bestM = 1;
            int bestN = 1;
            double bestCost = Double.MAX_VALUE;
            for (int ms = 1; ms <= Math.min(perBatch, mTiles); ms++) {
                int ns = Math.min(nTiles, ceilDiv(perBatch, ms));
                // Fewer units than asked is allowed only where a dimension runs out of tiles.
                int bPacks = ns == 1 && shares(batches, n, k, NR) ? 1 : ms;
                int aPacks = ms == 1 && shares(batches, m, k, MR) ? 1 : Math.max(ns, ceilDiv(n, NC));
                double cost = (double) bPacks * n + (double) aPacks * m;
                if (ms * ns >= Math.min(perBatch, mTiles * nTiles) && cost < bestCost) {
                    bestCost = cost;
                    bestM = ms;
                    bestN = ns;
                }
            }
            return new Split(mTiles, nTiles, bestM, bestN);
        }
    }

    /**
     * The serial blocked loops over rows {@code [m0, m1)} and columns {@code [n0, n1)} of one
     * batch entry, in the calling thread.
     */
    static void block(int batch, int m0, int m1, int n0, int n1, int k, PanelPacker a, PanelPacker b, Output out) {
        block(batch, m0, m1, n0, n1, k, a, b, null, null, -1, -1, out);
    }

    /**
     * {@link #block}, reading A from {@code sharedA} ({@link #packAll}; then the unit must span
     * all rows, {@code m0 == 0} and {@code m1 == m}) instead of packing it, when not null;
     * likewise B from {@code sharedB} (the unit spans all columns).
     */
    private static void block(int batch, int m0, int m1, int n0, int n1, int k, PanelPacker a, PanelPacker b,
            float[] sharedA, float[] sharedB, long aStride, long bStride, Output out) {
        long aBatch = batch * (aStride >= 0 ? aStride : sharedBatchSize(m1, k, MR));
        long bBatch = batch * (bStride >= 0 ? bStride : sharedBatchSize(n1, k, NR));
        float[][] buf = BUFFERS.get();
        float[] packA = buf[0];
        float[] packB = buf[1];
        float[] scratch = buf[2];
        float[] c = out.c();
        int cBase = out.off() + batch * out.batchStride();
        int ldc = out.ldc();
        for (int jc = n0; jc < n1; jc += NC) {
            int nc = Math.min(NC, n1 - jc);
            // At least one slice, so that k == 0 still writes the bias.
            int pc = 0;
            do {
                int kc = Math.min(KC, k - pc);
                float[] bPanels = packB;
                int bOff = 0;
                if (sharedB == null) {
                    b.pack(batch, jc, nc, pc, kc, NR, packB);
                } else {
                    bPanels = sharedB;
                    bOff = (int) (bBatch + sharedOffset(0, jc, nc, pc, n1, k, NR));
                }
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    float[] aPanels = packA;
                    int aOff = 0;
                    if (sharedA == null) {
                        a.pack(batch, ic, mc, pc, kc, MR, packA);
                    } else {
                        aPanels = sharedA;
                        aOff = (int) (aBatch + sharedOffset(0, ic, mc, pc, m1, k, MR));
                    }
                    boolean start = pc == 0 && out.overwrite();
                    if (pc == 0 && !start) {
                        addBias(out, c, cBase, ic, mc, jc, nc);
                    }
                    for (int jr = 0; jr < nc; jr += NR) {
                        for (int ir = 0; ir < mc; ir += MR) {
                            int ci = cBase + (ic + ir) * ldc + jc + jr;
                            int rows = Math.min(MR, mc - ir);
                            int cols = Math.min(NR, nc - jr);
                            if (start) {
                                GemmKernel.tile(kc, aPanels, aOff + ir * kc, bPanels, bOff + jr * kc, c, ci, ldc, rows,
                                        cols, scratch, startTile(out, ic + ir, rows, jc + jr, cols, buf[3]), 0, NR);
                            } else {
                                GemmKernel.tile(kc, aPanels, aOff + ir * kc, bPanels, bOff + jr * kc, c, ci, ldc, rows,
                                        cols, scratch);
                            }
                        }
                    }
                }
                pc += KC;
            } while (pc < k);
        }
    }

    /**
     * The tile an overwritten output's first slice starts from: element {@code (r, j)} at
     * {@code r * NR + j} is what {@link #addBias} leaves in a zeroed C at {@code (m0 + r, n0 + j)}
     * ({@code 0 + (rowBias[m] + colBias[n])}, the same bits), for {@code r < rows}, {@code j < cols}.
     */
    private static float[] startTile(Output out, int m0, int rows, int n0, int cols, float[] dst) {
        float[] colBias = out.colBias();
        float[] rowBias = out.rowBias();
        if (colBias == null && rowBias == null) {
            return ZERO_TILE;
        }
        jdk.incubator.vector.FloatVector zero = jdk.incubator.vector.FloatVector.zero(S);
        for (int r = 0; r < rows; r++) {
            float rb = rowBias == null ? 0f : rowBias[m0 + r];
            int j = 0;
            if (colBias == null) {
                jdk.incubator.vector.FloatVector v = zero.add(rb);
                for (; j + GemmKernel.L <= cols; j += GemmKernel.L) {
                    v.intoArray(dst, r * NR + j);
                }
                for (; j < cols; j++) {
                    dst[r * NR + j] = 0f + rb;
                }
            } else {
                for (; j + GemmKernel.L <= cols; j += GemmKernel.L) {
                    zero.add(jdk.incubator.vector.FloatVector.fromArray(S, colBias, n0 + j).add(rb))
                            .intoArray(dst, r * NR + j);
                }
                for (; j < cols; j++) {
                    dst[r * NR + j] = 0f + (rb + colBias[n0 + j]);
                }
            }
        }
        return dst;
    }

    /** {@code C[m][n] += colBias[n] + rowBias[m]} over rows {@code [m0, m0 + rows)}, columns {@code [n0, n0 + cols)}. */
    private static void addBias(Output out, float[] c, int cBase, int m0, int rows, int n0, int cols) {
        float[] colBias = out.colBias();
        float[] rowBias = out.rowBias();
        if (colBias == null && rowBias == null) {
            return;
        }
        // The null test on colBias outside the loops, so that each inner loop is plain and C2 can vectorise it.
        for (int m = m0; m < m0 + rows; m++) {
            int row = cBase + m * out.ldc();
            float rb = rowBias == null ? 0f : rowBias[m];
            if (colBias == null) {
                for (int n = n0; n < n0 + cols; n++) {
                    c[row + n] += rb;
                }
            } else {
                for (int n = n0; n < n0 + cols; n++) {
                    c[row + n] += rb + colBias[n];
                }
            }
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

}
