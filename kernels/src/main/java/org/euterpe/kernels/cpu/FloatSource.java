package org.euterpe.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Tensor;

/**
 * A tensor's elements read as f32 in contiguous runs, whatever its dtype and memory (heap
 * {@code float[]} or a mapped segment). The GEMM packers read operands through this, so a
 * low-precision weight is widened one packed tile at a time and never copied whole to f32.
 *
 * <p>Why runs: one virtual call per run (not per element) keeps packing loops monomorphic.
 */
abstract sealed class FloatSource {

    /** A source over {@code t}'s elements (flat row-major indices from 0). */
    static FloatSource of(Tensor t) {
        float[] heap = CpuBackendBase.heapArray(t);
        if (heap != null) {
            return new F32Array(heap, CpuBackendBase.heapOffset(t));
        }
        MemorySegment seg = CpuBackendBase.segment(t);
        return switch (t.dtype()) {
            case F32 -> new F32Segment(seg);
            case F16 -> new F16Segment(seg);
            case BF16 -> new BF16Segment(seg);
            case I8 -> new I8Segment(seg, CpuBackendBase.floats(t.scales()), t.numel() / Math.max(1, t.dim(0)));
            default -> throw new IllegalArgumentException("cannot use a " + t.dtype() + " tensor as a float operand: " + t);
        };
    }

    /**
     * {@code dst[dstOff + i * dstStride] = element(index + i)} for {@code i < count}. A run never
     * crosses a dim-0 entry of the tensor (I8 sources take one scale per run).
     */
    abstract void read(long index, int count, float[] dst, int dstOff, int dstStride);

    /**
     * A run dealt into panels: element {@code index + i} goes to
     * {@code dst[dstOff + (i / r) * panelStride + i % r]}. Same run rule as {@link #read}.
     */
    void readPanels(long index, int count, float[] dst, int dstOff, int r, int panelStride) {
        for (int p = 0; p < count; p += r) {
            read(index + p, Math.min(r, count - p), dst, dstOff + p / r * panelStride, 1);
        }
    }

    private static final class F32Array extends FloatSource {
        private final float[] a;
        private final int off;

        F32Array(float[] a, int off) {
            this.a = a;
            this.off = off;
        }

        @Override
        void read(long index, int count, float[] dst, int dstOff, int dstStride) {
            int src = off + (int) index;
            if (dstStride == 1) {
                System.arraycopy(a, src, dst, dstOff, count);
                return;
            }
            for (int i = 0; i < count; i++) {
                dst[dstOff + i * dstStride] = a[src + i];
            }
        }

        @Override
        void readPanels(long index, int count, float[] dst, int dstOff, int r, int panelStride) {
            // One call per run instead of one per panel: packing a transposed activation into
            // 4-row panels is otherwise dominated by call overhead.
            int src = off + (int) index;
            for (int p = 0; p < count; p += r, dstOff += panelStride) {
                int n = Math.min(r, count - p);
                for (int i = 0; i < n; i++) {
                    dst[dstOff + i] = a[src + p + i];
                }
            }
        }
    }

    private static final class F32Segment extends FloatSource {
        private final MemorySegment s;

        F32Segment(MemorySegment s) {
            this.s = s;
        }

        @Override
        void read(long index, int count, float[] dst, int dstOff, int dstStride) {
            if (dstStride == 1) {
                MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED, index * 4, dst, dstOff, count);
                return;
            }
            for (int i = 0; i < count; i++) {
                dst[dstOff + i * dstStride] = s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index + i);
            }
        }
    }

    private static final class F16Segment extends FloatSource {
        private final MemorySegment s;

        F16Segment(MemorySegment s) {
            this.s = s;
        }

        @Override
        void read(long index, int count, float[] dst, int dstOff, int dstStride) {
            for (int i = 0; i < count; i++) {
                dst[dstOff + i * dstStride] = Float.float16ToFloat(s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index + i));
            }
        }
    }

    private static final class BF16Segment extends FloatSource {
        private final MemorySegment s;

        BF16Segment(MemorySegment s) {
            this.s = s;
        }

        @Override
        void read(long index, int count, float[] dst, int dstOff, int dstStride) {
            for (int i = 0; i < count; i++) {
                dst[dstOff + i * dstStride] = DType.bf16ToF32(s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index + i));
            }
        }
    }

    private static final class I8Segment extends FloatSource {
        private final MemorySegment s;
        private final float[] scales;
        private final long perRow;

        I8Segment(MemorySegment s, float[] scales, long perRow) {
            this.s = s;
            this.scales = scales;
            this.perRow = perRow;
        }

        @Override
        void read(long index, int count, float[] dst, int dstOff, int dstStride) {
            float scale = scales[(int) (index / perRow)];
            for (int i = 0; i < count; i++) {
                dst[dstOff + i * dstStride] = s.get(ValueLayout.JAVA_BYTE, index + i) * scale;
            }
        }
    }
}
