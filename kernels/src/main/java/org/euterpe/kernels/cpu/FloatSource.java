package org.euterpe.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

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
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

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

    /** A source over the floats of {@code a} (indices from 0). */
    static FloatSource of(float[] a) {
        return new F32Array(a, 0);
    }

    /**
     * {@code dst[dstOff + i * dstStride] = element(index + i)} for {@code i < count}. A run never
     * crosses a dim-0 entry of the tensor (I8 sources take one scale per run).
     */
    abstract void read(long index, int count, float[] dst, int dstOff, int dstStride);

    /**
     * Four runs of {@code count} elements, {@code rowStride} apart, interleaved:
     * {@code dst[dstOff + k * 4 + i] = element(index + i * rowStride + k)} for {@code i < 4},
     * {@code k < count} (a 4-row panel of a row-major matrix, as the GEMM's left operand is packed).
     * Each run obeys {@link #read}'s rule.
     */
    void readInterleaved4(long index, long rowStride, int count, float[] dst, int dstOff) {
        for (int i = 0; i < 4; i++) {
            read(index + i * rowStride, count, dst, dstOff + i, 4);
        }
    }

    /**
     * {@link #readInterleaved4} for eight runs: {@code dst[dstOff + k * 8 + i] = element(index + i * rowStride + k)}
     * for {@code i < 8} (an 8-row panel, as the GEMM's left operand is packed for the 8-row tile).
     */
    void readInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff) {
        for (int i = 0; i < 8; i++) {
            read(index + i * rowStride, count, dst, dstOff + i, 8);
        }
    }

    /**
     * {@link #readInterleaved8} into a panel of {@code r} rows ({@code r} a multiple of 8, as the
     * GEMM's right operand is packed: {@code NR} rows):
     * {@code dst[dstOff + k * r + i] = element(index + i * rowStride + k)} for {@code i < 8},
     * {@code k < count}. F32 sources transpose in registers; others read each run with stride {@code r}.
     */
    void readInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff, int r) {
        for (int i = 0; i < 8; i++) {
            read(index + i * rowStride, count, dst, dstOff + i, r);
        }
    }

    /** Staging for {@link #spreadInterleaved8}: one 8-row panel. */
    private static final ThreadLocal<float[]> PANEL8 = ThreadLocal.withInitial(() -> new float[0]);
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;

    /**
     * An F32 source's {@link #readInterleaved8(long, long, int, float[], int, int)}: the 8-row
     * panel ({@link #readInterleaved8(long, long, int, float[], int)}) staged in L1, then each
     * depth step's eight rows moved as one 256-bit vector. A linear's weight (the right operand)
     * went element by element through the mapped segment before (6 % of the U-Net step's samples).
     */
    final void spreadInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff, int r) {
        if (r == 8) {
            readInterleaved8(index, rowStride, count, dst, dstOff);
            return;
        }
        float[] panel = ThreadScratch.floats(PANEL8, 8L * count);
        readInterleaved8(index, rowStride, count, panel, 0);
        int k = 0;
        if (L >= 8) {
            for (; k < count; k++) {
                FloatVector.fromArray(S8, panel, 8 * k).intoArray(dst, dstOff + k * r);
            }
        }
        for (; k < count; k++) {
            System.arraycopy(panel, 8 * k, dst, dstOff + k * r, 8);
        }
    }

    // Lane indices into two concatenated vectors (x ++ y) for interleave4: PAIR_* interleaves
    // single lanes of x and y (x0 y0 x1 y1 ...; low and high halves), QUAD_* interleaves lane pairs.
    private static final FloatVector PAIR_LO = laneIndices(q -> (q % 2) * L + q / 2);
    private static final FloatVector PAIR_HI = laneIndices(q -> (q % 2) * L + L / 2 + q / 2);
    private static final FloatVector QUAD_LO = laneIndices(q -> (q / 2 % 2) * L + q / 4 * 2 + q % 2);
    private static final FloatVector QUAD_HI = laneIndices(q -> (q / 2 % 2) * L + L / 2 + q / 4 * 2 + q % 2);

    /** A vector of lane indices {@code f(q)}, as {@code selectFrom} takes them. */
    static FloatVector laneIndices(java.util.function.IntUnaryOperator f) {
        float[] v = new float[L];
        for (int q = 0; q < L; q++) {
            v[q] = f.applyAsInt(q);
        }
        return FloatVector.fromArray(S, v, 0);
    }

    /**
     * Rows {@code r0..r3} ({@code L} consecutive depth steps each) written to {@code dst[at ..]}
     * as {@code L} groups of four ({@code r0[k] r1[k] r2[k] r3[k]}): a 4 x L transpose in two
     * rounds of two-vector lane selections, about 2.5x faster than the scalar scatter.
     */
    static void interleave4(FloatVector r0, FloatVector r1, FloatVector r2, FloatVector r3, float[] dst, int at) {
        FloatVector lo01 = PAIR_LO.selectFrom(r0, r1);
        FloatVector hi01 = PAIR_HI.selectFrom(r0, r1);
        FloatVector lo23 = PAIR_LO.selectFrom(r2, r3);
        FloatVector hi23 = PAIR_HI.selectFrom(r2, r3);
        QUAD_LO.selectFrom(lo01, lo23).intoArray(dst, at);
        QUAD_HI.selectFrom(lo01, lo23).intoArray(dst, at + L);
        QUAD_LO.selectFrom(hi01, hi23).intoArray(dst, at + 2 * L);
        QUAD_HI.selectFrom(hi01, hi23).intoArray(dst, at + 3 * L);
    }

    // OCT_* interleaves groups of four lanes (needs L >= 8).
    private static final FloatVector OCT_LO = laneIndices(q -> (q / 4 % 2) * L + q / 8 * 4 + q % 4);
    private static final FloatVector OCT_HI = laneIndices(q -> (q / 4 % 2) * L + L / 2 + q / 8 * 4 + q % 4);

    /**
     * {@link #readInterleaved8} from a float array: rows at {@code a[src + i * ld]}. Each group of
     * {@code L} depth steps is an 8 x L transpose: {@link #interleave4}'s two rounds of two-vector
     * lane selections on each half, then a third that interleaves their groups of four
     * ({@code L >= 8}). All in one method, loads included: a helper taking eight vectors was not
     * inlined by C2 and boxed them (4.5x slower than two 4-row interleaves).
     */
    private static void interleave8Rows(float[] a, int src, int ld, int count, float[] dst, int dstOff) {
        int k = 0;
        if (L >= 8) {
            for (; k + L <= count; k += L) {
                int s0 = src + k;
                FloatVector r0 = FloatVector.fromArray(S, a, s0);
                FloatVector r1 = FloatVector.fromArray(S, a, s0 + ld);
                FloatVector r2 = FloatVector.fromArray(S, a, s0 + 2 * ld);
                FloatVector r3 = FloatVector.fromArray(S, a, s0 + 3 * ld);
                FloatVector r4 = FloatVector.fromArray(S, a, s0 + 4 * ld);
                FloatVector r5 = FloatVector.fromArray(S, a, s0 + 5 * ld);
                FloatVector r6 = FloatVector.fromArray(S, a, s0 + 6 * ld);
                FloatVector r7 = FloatVector.fromArray(S, a, s0 + 7 * ld);
                FloatVector lo01 = PAIR_LO.selectFrom(r0, r1);
                FloatVector hi01 = PAIR_HI.selectFrom(r0, r1);
                FloatVector lo23 = PAIR_LO.selectFrom(r2, r3);
                FloatVector hi23 = PAIR_HI.selectFrom(r2, r3);
                FloatVector lo45 = PAIR_LO.selectFrom(r4, r5);
                FloatVector hi45 = PAIR_HI.selectFrom(r4, r5);
                FloatVector lo67 = PAIR_LO.selectFrom(r6, r7);
                FloatVector hi67 = PAIR_HI.selectFrom(r6, r7);
                // Four-row groups of depth steps in quarters of L, rows 0-3 (q) and 4-7 (p).
                FloatVector q0 = QUAD_LO.selectFrom(lo01, lo23);
                FloatVector q1 = QUAD_HI.selectFrom(lo01, lo23);
                FloatVector q2 = QUAD_LO.selectFrom(hi01, hi23);
                FloatVector q3 = QUAD_HI.selectFrom(hi01, hi23);
                FloatVector p0 = QUAD_LO.selectFrom(lo45, lo67);
                FloatVector p1 = QUAD_HI.selectFrom(lo45, lo67);
                FloatVector p2 = QUAD_LO.selectFrom(hi45, hi67);
                FloatVector p3 = QUAD_HI.selectFrom(hi45, hi67);
                int at = dstOff + 8 * k;
                OCT_LO.selectFrom(q0, p0).intoArray(dst, at);
                OCT_HI.selectFrom(q0, p0).intoArray(dst, at + L);
                OCT_LO.selectFrom(q1, p1).intoArray(dst, at + 2 * L);
                OCT_HI.selectFrom(q1, p1).intoArray(dst, at + 3 * L);
                OCT_LO.selectFrom(q2, p2).intoArray(dst, at + 4 * L);
                OCT_HI.selectFrom(q2, p2).intoArray(dst, at + 5 * L);
                OCT_LO.selectFrom(q3, p3).intoArray(dst, at + 6 * L);
                OCT_HI.selectFrom(q3, p3).intoArray(dst, at + 7 * L);
            }
        }
        for (; k < count; k++) {
            for (int i = 0; i < 8; i++) {
                dst[dstOff + 8 * k + i] = a[src + i * ld + k];
            }
        }
    }

    private static final FloatVector EVEN = laneIndices(q -> 2 * q);
    private static final FloatVector ODD = laneIndices(q -> 2 * q + 1);

    /**
     * The inverse of {@link #interleave4}: the {@code 4 L} floats at {@code src[at ..]} dealt by
     * position mod 4, element {@code 4 k + i} to {@code dst[to + i * stride + k]}.
     */
    static void deinterleave4(float[] src, int at, float[] dst, int to, int stride) {
        FloatVector a = FloatVector.fromArray(S, src, at);
        FloatVector b = FloatVector.fromArray(S, src, at + L);
        FloatVector c = FloatVector.fromArray(S, src, at + 2 * L);
        FloatVector d = FloatVector.fromArray(S, src, at + 3 * L);
        FloatVector even0 = EVEN.selectFrom(a, b); // elements 0, 2, 4, ..
        FloatVector odd0 = ODD.selectFrom(a, b);
        FloatVector even1 = EVEN.selectFrom(c, d);
        FloatVector odd1 = ODD.selectFrom(c, d);
        EVEN.selectFrom(even0, even1).intoArray(dst, to);
        EVEN.selectFrom(odd0, odd1).intoArray(dst, to + stride);
        ODD.selectFrom(even0, even1).intoArray(dst, to + 2 * stride);
        ODD.selectFrom(odd0, odd1).intoArray(dst, to + 3 * stride);
    }

    /** {@link #readInterleaved4} from a float array: rows at {@code a[src + i * ld]}. */
    private static void interleave4Rows(float[] a, int src, int ld, int count, float[] dst, int dstOff) {
        int k = 0;
        for (; k + L <= count; k += L) {
            interleave4(FloatVector.fromArray(S, a, src + k), FloatVector.fromArray(S, a, src + ld + k),
                    FloatVector.fromArray(S, a, src + 2 * ld + k), FloatVector.fromArray(S, a, src + 3 * ld + k),
                    dst, dstOff + 4 * k);
        }
        for (; k < count; k++) {
            for (int i = 0; i < 4; i++) {
                dst[dstOff + 4 * k + i] = a[src + i * ld + k];
            }
        }
    }

    /** F32Segment's staging rows for {@link #readInterleaved4}. */
    private static final ThreadLocal<float[]> ROWS = ThreadLocal.withInitial(() -> new float[0]);

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
        void readInterleaved4(long index, long rowStride, int count, float[] dst, int dstOff) {
            interleave4Rows(a, off + (int) index, (int) rowStride, count, dst, dstOff);
        }

        @Override
        void readInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff) {
            interleave8Rows(a, off + (int) index, (int) rowStride, count, dst, dstOff);
        }

        @Override
        void readInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff, int r) {
            spreadInterleaved8(index, rowStride, count, dst, dstOff, r);
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

        @Override
        void readInterleaved4(long index, long rowStride, int count, float[] dst, int dstOff) {
            // Bulk copies of the four runs, then the array path. FloatVector.fromMemorySegment
            // here was compiled, in the U-Net, to its Java fallback (a boxed vector per load,
            // ~0.5 GB/s of garbage); a copy of a few KiB costs less than that.
            float[] rows = ThreadScratch.floats(ROWS, 4L * count);
            for (int i = 0; i < 4; i++) {
                MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED, (index + i * rowStride) * 4, rows, i * count,
                        count);
            }
            interleave4Rows(rows, 0, count, count, dst, dstOff);
        }

        @Override
        void readInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff) {
            // As readInterleaved4.
            float[] rows = ThreadScratch.floats(ROWS, 8L * count);
            for (int i = 0; i < 8; i++) {
                MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED, (index + i * rowStride) * 4, rows, i * count,
                        count);
            }
            interleave8Rows(rows, 0, count, count, dst, dstOff);
        }

        @Override
        void readInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff, int r) {
            spreadInterleaved8(index, rowStride, count, dst, dstOff, r);
        }
    }

    /**
     * A low-precision source (f16, bf16, int8 with per-row scales): each run is first widened into
     * a contiguous f32 run ({@link #widen}: a bulk copy of the raw values, then a vector or
     * auto-vectorised conversion), and the interleaved 4- and 8-row panels the GEMM packs are made
     * from widened rows by the same in-register transposes as f32's. Element by element through
     * the mapped segment, an int8 DiT step took ~2.7x the f32 time (packing-bound at batch 2).
     */
    private abstract static sealed class Widened extends FloatSource {
        /** Staging rows of {@link #read} with a stride and of the interleaved panels. */
        private static final ThreadLocal<float[]> WIDE = ThreadLocal.withInitial(() -> new float[0]);

        /** {@code dst[dstOff + i] = element(index + i)} for {@code i < count}; {@link #read}'s run rule. */
        abstract void widen(long index, int count, float[] dst, int dstOff);

        @Override
        final void read(long index, int count, float[] dst, int dstOff, int dstStride) {
            if (dstStride == 1) {
                widen(index, count, dst, dstOff);
                return;
            }
            float[] run = ThreadScratch.floats(WIDE, count);
            widen(index, count, run, 0);
            for (int i = 0; i < count; i++) {
                dst[dstOff + i * dstStride] = run[i];
            }
        }

        /** {@code n} runs of {@code count}, {@code rowStride} apart, widened one after another into scratch. */
        private float[] widenRows(long index, long rowStride, int count, int n) {
            float[] rows = ThreadScratch.floats(WIDE, (long) n * count);
            for (int i = 0; i < n; i++) {
                widen(index + i * rowStride, count, rows, i * count);
            }
            return rows;
        }

        @Override
        final void readInterleaved4(long index, long rowStride, int count, float[] dst, int dstOff) {
            interleave4Rows(widenRows(index, rowStride, count, 4), 0, count, count, dst, dstOff);
        }

        @Override
        final void readInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff) {
            interleave8Rows(widenRows(index, rowStride, count, 8), 0, count, count, dst, dstOff);
        }

        @Override
        final void readInterleaved8(long index, long rowStride, int count, float[] dst, int dstOff, int r) {
            spreadInterleaved8(index, rowStride, count, dst, dstOff, r);
        }
    }

    /** Raw 16-bit values of {@link F16Segment} and {@link BF16Segment} runs. */
    private static final ThreadLocal<short[]> HALVES = ThreadLocal.withInitial(() -> new short[0]);

    private static final class F16Segment extends Widened {
        private final MemorySegment s;

        F16Segment(MemorySegment s) {
            this.s = s;
        }

        @Override
        void widen(long index, int count, float[] dst, int dstOff) {
            short[] h = ThreadScratch.shorts(HALVES, count);
            MemorySegment.copy(s, ValueLayout.JAVA_SHORT_UNALIGNED, index * 2, h, 0, count);
            int i = 0;
            if (SS != null) { // IS has S's shape, so L lanes too
                for (; i + L <= count; i += L) {
                    halfToFloat(ShortVector.fromArray(SS, h, i)).intoArray(dst, dstOff + i);
                }
            }
            for (; i < count; i++) {
                dst[dstOff + i] = Float.float16ToFloat(h[i]);
            }
        }
    }

    private static final float TWO_TO_MINUS_24 = 0x1p-24f;

    /**
     * IEEE half to single precision in lanes, exactly as {@link Float#float16ToFloat} (the JDK's
     * scalar conversion, used element by element, was not vectorised and cost more than the GEMM's
     * packing of f32): the exponent rebiased by 112 for normal numbers, by 224 for infinities and
     * NaNs (payload kept); zeros and subnormals are their 10-bit mantissa times 2^-24, exact in f32.
     */
    private static FloatVector halfToFloat(ShortVector h) {
        IntVector x = (IntVector) h.convertShape(VectorOperators.S2I, IS, 0);
        IntVector sign = x.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector em = x.and(0x7fff);
        IntVector bits = em.lanewise(VectorOperators.LSHL, 13).add(112 << 23);
        bits = bits.add(112 << 23, em.compare(VectorOperators.GE, 0x7c00));
        IntVector small = ((FloatVector) em.convert(VectorOperators.I2F, 0)).mul(TWO_TO_MINUS_24).reinterpretAsInts();
        bits = bits.blend(small, em.compare(VectorOperators.LT, 0x400));
        return bits.or(sign).reinterpretAsFloats();
    }

    private static final VectorSpecies<Short> SS = L >= 4 ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16))
            : null;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;

    private static final class BF16Segment extends Widened {
        private final MemorySegment s;

        BF16Segment(MemorySegment s) {
            this.s = s;
        }

        @Override
        void widen(long index, int count, float[] dst, int dstOff) {
            short[] h = ThreadScratch.shorts(HALVES, count);
            MemorySegment.copy(s, ValueLayout.JAVA_SHORT_UNALIGNED, index * 2, h, 0, count);
            int i = 0;
            if (SS != null) { // IS has S's shape, so L lanes too
                for (; i + L <= count; i += L) { // bf16 is the high half of an f32
                    ((IntVector) ShortVector.fromArray(SS, h, i).convertShape(VectorOperators.S2I, IS, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i);
                }
            }
            for (; i < count; i++) {
                dst[dstOff + i] = DType.bf16ToF32(h[i]);
            }
        }
    }

    private static final ThreadLocal<byte[]> BYTES = ThreadLocal.withInitial(() -> new byte[0]);
    private static final VectorSpecies<Byte> BS = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8))
            : null;

    private static final class I8Segment extends Widened {
        private final MemorySegment s;
        private final float[] scales;
        private final long perRow;

        I8Segment(MemorySegment s, float[] scales, long perRow) {
            this.s = s;
            this.scales = scales;
            this.perRow = perRow;
        }

        @Override
        void widen(long index, int count, float[] dst, int dstOff) {
            float scale = scales[(int) (index / perRow)];
            byte[] b = ThreadScratch.bytes(BYTES, count);
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, index, b, 0, count);
            int i = 0;
            if (BS != null) {
                for (; i + L <= count; i += L) {
                    ((FloatVector) ByteVector.fromArray(BS, b, i).convertShape(VectorOperators.B2F, S, 0)).mul(scale)
                            .intoArray(dst, dstOff + i);
                }
            }
            for (; i < count; i++) {
                dst[dstOff + i] = b[i] * scale;
            }
        }
    }
}
