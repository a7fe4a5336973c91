package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/** Random operands in every weight format, and the error measure, for the GEMM/conv tests. */
final class KernelTestSupport {
    static final VectorBackend BE = new VectorBackend();

    private KernelTestSupport() {
    }

    static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    static Tensor f32(Random r, int... dims) {
        Shape s = Shape.of(dims);
        return BE.fromArray(random(r, (int) s.numel()), s);
    }

    /**
     * A weight of {@code dims} stored as {@code dtype}; F32 and I8 in off-heap segments (as mapped
     * weights are), F16/BF16 heap or off-heap alternately by {@code r}.
     */
    static Tensor weight(Random r, DType dtype, int... dims) {
        Shape s = Shape.of(dims);
        int n = (int) s.numel();
        float[] v = random(r, n);
        Arena arena = Arena.ofAuto();
        switch (dtype) {
            case F32 -> {
                MemorySegment seg = arena.allocate(4L * n);
                MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, n);
                return BE.fromHost(seg, DType.F32, s, null);
            }
            case F16, BF16 -> {
                Tensor heap = BE.cast(BE.fromArray(v, s), dtype);
                if (r.nextBoolean()) {
                    return heap;
                }
                MemorySegment seg = arena.allocate(2L * n);
                seg.copyFrom(CpuBackendBase.segment(heap));
                return BE.fromHost(seg, dtype, s, null);
            }
            case I8 -> {
                int rows = dims[0];
                int per = n / rows;
                float[] scales = new float[rows];
                MemorySegment seg = arena.allocate(n);
                for (int i = 0; i < rows; i++) {
                    scales[i] = 0.01f + r.nextFloat() * 0.05f;
                    for (int j = 0; j < per; j++) {
                        seg.set(ValueLayout.JAVA_BYTE, (long) i * per + j, (byte) (r.nextInt(255) - 127));
                    }
                }
                return BE.fromHost(seg, DType.I8, s, BE.fromArray(scales, Shape.of(rows)));
            }
            default -> throw new IllegalArgumentException(dtype.toString());
        }
    }

    /** Asserts {@code max |got - ref| / max |ref| <= tol}; returns that relative error. */
    static double assertClose(double[] ref, Tensor got, double tol, String what) {
        float[] g = got.toFloatArray();
        assertEquals(ref.length, g.length, what + ": element count");
        double maxRef = 1e-30;
        double maxErr = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxErr = Math.max(maxErr, Math.abs(ref[i] - g[i]));
            if (Double.isNaN(g[i])) {
                maxErr = Double.POSITIVE_INFINITY;
            }
        }
        double rel = maxErr / maxRef;
        assertTrue(rel <= tol, what + ": relative error " + rel + " (max abs " + maxErr + ", max |ref| " + maxRef + ")");
        return rel;
    }
}
