package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import jdk.incubator.vector.FloatVector;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

class FloatSourceTest {

    /** The vectorised 4-row interleave against its definition, on heap and off-heap F32, with tails. */
    @Test
    void deinterleave4DealsByPositionAndInterleave4UndoesIt() {
        int l = GemmKernel.L;
        float[] src = new float[4 * l + 3];
        for (int i = 0; i < src.length; i++) {
            src[i] = 100 + i;
        }
        int stride = l + 5;
        float[] dealt = new float[3 + 4 * stride];
        FloatSource.deinterleave4(src, 3, dealt, 2, stride);
        float[] want = new float[dealt.length];
        for (int k = 0; k < l; k++) {
            for (int i = 0; i < 4; i++) {
                want[2 + i * stride + k] = src[3 + 4 * k + i];
            }
        }
        assertArrayEquals(want, dealt);
        float[] back = new float[4 * l + 1];
        FloatSource.interleave4(FloatVector.fromArray(GemmKernel.S, dealt, 2),
                FloatVector.fromArray(GemmKernel.S, dealt, 2 + stride),
                FloatVector.fromArray(GemmKernel.S, dealt, 2 + 2 * stride),
                FloatVector.fromArray(GemmKernel.S, dealt, 2 + 3 * stride), back, 1);
        assertArrayEquals(Arrays.copyOfRange(src, 3, 3 + 4 * l),
                Arrays.copyOfRange(back, 1, 1 + 4 * l));
    }

    /** Every f16 and bf16 bit pattern (subnormals, signed zeros, infinities) widens to the JDK's value, bit for bit; NaNs stay NaN. */
    @Test
    void everyHalfAndBfloatWidensExactly() {
        int n = 1 << 16;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(2L * n);
            for (int i = 0; i < n; i++) {
                seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) i);
            }
            for (DType t : new DType[] {DType.F16, DType.BF16}) {
                FloatSource src = FloatSource.of(Backends.cpu().fromHost(seg, t, Shape.of(n), null));
                float[] got = new float[n + 1];
                for (int at = 0; at < n; at += 4099) { // runs with vector bodies and scalar tails
                    src.read(at, Math.min(4099, n - at), got, at + 1, 1);
                }
                for (int i = 0; i < n; i++) {
                    float want = t == DType.F16 ? Float.float16ToFloat((short) i) : DType.bf16ToF32((short) i);
                    boolean same = Float.isNaN(want) ? Float.isNaN(got[i + 1]) // the quiet bit may differ
                            : Float.floatToRawIntBits(want) == Float.floatToRawIntBits(got[i + 1]);
                    if (!same) {
                        throw new AssertionError(t + " 0x" + Integer.toHexString(i) + ": want " + want + " got "
                                + got[i + 1]);
                    }
                }
            }
        }
    }

    /** The 4- and 8-row panels of f16, bf16 and int8 (per-row scales) sources against their definition. */
    @Test
    void lowPrecisionPanelsMatchDefinition() {
        int rows = 11;
        int ld = 77;
        for (DType t : new DType[] {DType.F16, DType.BF16, DType.I8}) {
            try (Tensor low = KernelTestSupport.weight(new java.util.Random(3), t, rows, ld)) {
                float[] exact = low.toFloatArray(); // the stored values, widened by the reference path
                FloatSource src = FloatSource.of(low);
                for (int width : new int[] {4, 8}) {
                    for (int row0 : new int[] {0, 3}) {
                        for (int k0 : new int[] {0, 1, 19}) {
                            for (int count : new int[] {0, 7, 16, 40, 58}) {
                                float[] want = new float[width * count + 2];
                                for (int k = 0; k < count; k++) {
                                    for (int i = 0; i < width; i++) {
                                        want[2 + width * k + i] = exact[(row0 + i) * ld + k0 + k];
                                    }
                                }
                                float[] got = new float[want.length];
                                long at = (long) row0 * ld + k0;
                                if (width == 4) {
                                    src.readInterleaved4(at, ld, count, got, 2);
                                } else {
                                    src.readInterleaved8(at, ld, count, got, 2);
                                }
                                assertArrayEquals(want, got, t + " " + width + " rows from " + row0 + ", depth from "
                                        + k0 + ", " + count + " steps");
                            }
                        }
                        for (int r : new int[] {16, 32}) { // eight rows into a wider (NR-row) panel
                            int count = 45;
                            float[] want = new float[r * count + 5];
                            for (int k = 0; k < count; k++) {
                                for (int i = 0; i < 8; i++) {
                                    want[5 + r * k + i] = exact[(row0 + i) * ld + 2 + k];
                                }
                            }
                            float[] got = new float[want.length];
                            src.readInterleaved8((long) row0 * ld + 2, ld, count, got, 5, r);
                            assertArrayEquals(want, got, t + " 8 rows into " + r + "-row panels from " + row0);
                        }
                        float[] strided = new float[3 * ld];
                        src.read((long) row0 * ld, ld, strided, 1, 3);
                        for (int k = 0; k < ld; k++) {
                            if (strided[1 + 3 * k] != exact[row0 * ld + k]) {
                                throw new AssertionError(t + " strided read, row " + row0 + " depth " + k);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void readInterleaved4MatchesDefinition() {
        Backend be = Backends.cpu();
        int rows = 9;
        int ld = 53;
        Tensor heap = be.randn(Shape.of(rows, ld), 7);
        float[] values = heap.toFloatArray();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4L * values.length);
            MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
            Tensor mapped = be.fromHost(seg, DType.F32, Shape.of(rows, ld), null);
            for (Tensor t : new Tensor[] {heap, mapped}) {
                FloatSource src = FloatSource.of(t);
                for (int row0 : new int[] {0, 3, 5}) {
                    for (int k0 : new int[] {0, 1, 17}) {
                        for (int count : new int[] {0, 5, 16, 36}) {
                            float[] want = new float[4 * count + 3];
                            for (int k = 0; k < count; k++) {
                                for (int i = 0; i < 4; i++) {
                                    want[3 + 4 * k + i] = values[(row0 + i) * ld + k0 + k];
                                }
                            }
                            float[] got = new float[want.length];
                            src.readInterleaved4((long) row0 * ld + k0, ld, count, got, 3);
                            assertArrayEquals(want, got, "rows from " + row0 + ", depth from " + k0 + ", " + count
                                    + " steps, " + t);
                        }
                    }
                }
            }
        }
    }

    @Test
    void readInterleaved8MatchesDefinition() {
        Backend be = Backends.cpu();
        int rows = 13;
        int ld = 53;
        Tensor heap = be.randn(Shape.of(rows, ld), 8);
        float[] values = heap.toFloatArray();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4L * values.length);
            MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
            Tensor mapped = be.fromHost(seg, DType.F32, Shape.of(rows, ld), null);
            Tensor half = heap.cast(DType.F16);
            float[] halfValues = half.toFloatArray();
            for (Tensor t : new Tensor[] {heap, mapped, half}) {
                float[] v = t == half ? halfValues : values;
                FloatSource src = FloatSource.of(t);
                for (int row0 : new int[] {0, 3, 5}) {
                    for (int k0 : new int[] {0, 1, 17}) {
                        for (int count : new int[] {0, 5, 16, 36}) {
                            float[] want = new float[8 * count + 3];
                            for (int k = 0; k < count; k++) {
                                for (int i = 0; i < 8; i++) {
                                    want[3 + 8 * k + i] = v[(row0 + i) * ld + k0 + k];
                                }
                            }
                            float[] got = new float[want.length];
                            src.readInterleaved8((long) row0 * ld + k0, ld, count, got, 3);
                            assertArrayEquals(want, got, "rows from " + row0 + ", depth from " + k0 + ", " + count
                                    + " steps, " + t);
                        }
                    }
                }
            }
        }
    }
}
