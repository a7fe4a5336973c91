package org.euterpe.kernels.cpu;

import java.util.Arrays;

/**
 * ConvTranspose1d as GEMM + overlap-add, blocked in time: for a block of input steps
 * {@code [t0, t0 + tb)}, {@code cols[(o, j), t] = sum_c w[c, o, j] * x[c, t]} is one GEMM
 * ({@code [outC * k, inC] x [inC, tb]}) into a per-thread scratch that stays in cache, then
 * each {@code cols} entry is added to {@code out[o, t * stride - padding + j * dilation]}.
 *
 * @param x      {@code [batch, inC, len]}
 * @param weight {@code [inC, outC, k]}
 * @param out    {@code [batch, outC, outLen]}, any contents on entry: run sets each row to its bias first
 */
record ConvTranspose(FloatSource x, FloatSource weight, float[] bias, float[] out, int inC, int len, int outC, int k,
        int outLen, int stride, int padding, int dilation) {

    /**
     * Scratch floats per thread for one block of cols (4 MB); time blocks shrink to fit, but not
     * below {@link #MIN_BLOCK} steps, since the weight is repacked for every block.
     */
    private static final int SCRATCH = 1 << 20;
    private static final int MIN_BLOCK = 4 * GemmKernel.NR;
    private static final ThreadLocal<float[]> COLS = ThreadLocal.withInitial(() -> new float[SCRATCH]);
    /** Per thread: this unit's filters as {@code [inC][(o, j)]}. */
    private static final ThreadLocal<float[]> WEIGHT = ThreadLocal.withInitial(() -> new float[0]);

    /** Output channels {@code [o0, o1)} of image {@code b}, in the calling thread. */
    void run(int b, int o0, int o1) {
        if (o0 == o1) {
            return;
        }
        for (int o = o0; o < o1; o++) {
            int row = (b * outC + o) * outLen;
            Arrays.fill(out, row, row + outLen, bias == null ? 0f : bias[o]);
        }
        int rows = (o1 - o0) * k;
        // Time blocks sized for all output channels, not just this unit's: the order in which
        // an output sample gathers its overlapping contributions then does not depend on the
        // split, so results do not depend on the thread count.
        int tb = Math.max(MIN_BLOCK, SCRATCH / (outC * k) / GemmKernel.NR * GemmKernel.NR);
        float[] cols = ThreadScratch.floats(COLS, (long) rows * tb);
        // op(A)[(o, j), c] = weight[c, o, j], copied once per call as [c][(o, j)] runs: packing
        // A for every time block straight from the (mapped, strided) weight read it element by element.
        float[] wt = ThreadScratch.floats(WEIGHT, (long) inC * rows);
        for (int c = 0; c < inC; c++) {
            weight.read((long) c * outC * k + (long) o0 * k, rows, wt, c * rows, 1);
        }
        PanelPacker a = new PanelPacker.Strided(FloatSource.of(wt), 0, 0, 1, rows);
        // op(B)^T[t, c] = x[b, c, t].
        for (int t0 = 0; t0 < len; t0 += tb) {
            int n = Math.min(tb, len - t0);
            PanelPacker bBlock = new PanelPacker.Strided(x, t0, (long) inC * len, 1, len);
            GemmDriver.block(b, 0, rows, 0, n, inC, a, bBlock,
                    GemmDriver.Output.overwrite(cols, 0, 0, n, null, null));
            overlapAdd(cols, b, o0, o1, t0, n);
        }
    }

    /** {@code out[b, o, t * stride - padding + j * dilation] += cols[(o - o0) * k + j, t - t0]}. */
    private void overlapAdd(float[] cols, int b, int o0, int o1, int t0, int n) {
        for (int o = o0; o < o1; o++) {
            int outRow = (b * outC + o) * outLen;
            for (int j = 0; j < k; j++) {
                int colRow = ((o - o0) * k + j) * n;
                int shift = j * dilation - padding; // u = t * stride + shift
                // Valid t: 0 <= t * stride + shift < outLen, within [t0, t0 + n).
                int tFirst = Math.max(t0, ceilDiv(-shift, stride));
                int tEnd = Math.min(t0 + n, ceilDiv(outLen - shift, stride));
                for (int t = tFirst; t < tEnd; t++) {
                    out[outRow + t * stride + shift] += cols[colRow + t - t0];
                }
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }
}
