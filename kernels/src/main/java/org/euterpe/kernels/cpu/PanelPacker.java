package org.euterpe.kernels.cpu;

/**
 * Copies a block of one GEMM operand into the packed layout the micro-kernel streams.
 *
 * <p>The operand is seen as a {@code [rows, depth]} matrix: op(A) for the left operand
 * ({@code rows = M}), op(B) transposed for the right one ({@code rows = N}); depth is K. A block
 * of {@code count} rows from {@code i0} and {@code kc} depth steps from {@code k0} is stored as
 * panels of {@code r} rows, element {@code (i, k)} at
 * {@code dst[(i / r) * r * kc + k * r + i % r]}; the last panel's missing rows are zero, so the
 * micro-kernel never branches on edges inside its loop.
 */
interface PanelPacker {

    void pack(int batch, int i0, int count, int k0, int kc, int r, float[] dst);

    /** Whether every batch entry packs the same values (a weight shared by a batch of inputs). */
    default boolean batchInvariant() {
        return false;
    }

    /** {@code count} rounded up to a multiple of {@code r}. */
    private static int padded(int count, int r) {
        return (count + r - 1) / r * r;
    }

    /** Zeroes the rows of the last panel beyond {@code count}. */
    static void zeroTail(int count, int kc, int r, float[] dst) {
        int rem = count % r;
        if (rem == 0) {
            return;
        }
        int panel = (count - rem) * kc;
        for (int k = 0; k < kc; k++) {
            java.util.Arrays.fill(dst, panel + k * r + rem, panel + k * r + r, 0f);
        }
    }

    /**
     * A strided matrix view over a tensor's elements: element {@code (i, k)} of batch entry
     * {@code b} is at {@code base + b * batchStride + i * rowStride + k * depthStride}. One of the
     * two strides must be 1 (a row-major matrix or its transpose), so reads are contiguous runs.
     * Packed values are multiplied by {@code scale} (matmul's alpha rides on A this way).
     */
    record Strided(FloatSource src, long base, long batchStride, long rowStride, long depthStride, float scale)
            implements PanelPacker {

        Strided(FloatSource src, long base, long batchStride, long rowStride, long depthStride) {
            this(src, base, batchStride, rowStride, depthStride, 1f);
        }

        public Strided {
            if (rowStride != 1 && depthStride != 1) {
                throw new IllegalArgumentException("a packed operand needs a unit stride, got " + rowStride + ", "
                        + depthStride);
            }
        }

        @Override
        public boolean batchInvariant() {
            return batchStride == 0;
        }

        @Override
        public void pack(int batch, int i0, int count, int k0, int kc, int r, float[] dst) {
            long origin = base + batch * batchStride + i0 * rowStride + k0 * depthStride;
            if (depthStride == 1) {
                // Rows are contiguous along depth: one run per row, scattered with stride r, or
                // transposed four (eight) rows at a time into a whole 4-row (8-row) panel.
                int i = 0;
                if (r == 4) {
                    for (; i + 4 <= count; i += 4) {
                        src.readInterleaved4(origin + i * rowStride, rowStride, kc, dst, i * kc);
                    }
                } else if (r == 8) {
                    for (; i + 8 <= count; i += 8) {
                        src.readInterleaved8(origin + i * rowStride, rowStride, kc, dst, i * kc);
                    }
                } else if (r % 8 == 0) {
                    // Wider panels (B's NR rows) in groups of eight rows, which never straddle a panel.
                    for (; i + 8 <= count; i += 8) {
                        src.readInterleaved8(origin + i * rowStride, rowStride, kc, dst, (i / r) * r * kc + i % r, r);
                    }
                }
                for (; i < count; i++) {
                    src.read(origin + i * rowStride, kc, dst, (i / r) * r * kc + i % r, r);
                }
            } else {
                // Columns are contiguous along rows: walk each source row once, one run per panel.
                for (int k = 0; k < kc; k++) {
                    src.readPanels(origin + k * depthStride, count, dst, k * r, r, r * kc);
                }
            }
            zeroTail(count, kc, r, dst);
            if (scale != 1f) {
                int n = padded(count, r) * kc;
                for (int i = 0; i < n; i++) {
                    dst[i] *= scale;
                }
            }
        }
    }
}
