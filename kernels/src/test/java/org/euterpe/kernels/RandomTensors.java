package org.euterpe.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Seeded test inputs made on one backend. Two instances with the same seed, asked the same
 * questions in the same order, hand two backends bit-identical inputs, which is what lets a
 * backend be compared with the reference.
 */
public final class RandomTensors {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Backend backend;
    private final SplittableRandom rng;

    public RandomTensors(Backend backend, long seed) {
        this.backend = backend;
        this.rng = new SplittableRandom(seed);
    }

    public Backend backend() {
        return backend;
    }

    /** Standard-normal F32 values. */
    public Tensor randn(int... dims) {
        return backend.fromArray(normalValues(count(dims)), Shape.of(dims));
    }

    /** {@code n} standard-normal values on the host, e.g. to edit before upload with {@link #of}. */
    public float[] normalValues(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }

    /** Values of random sign with magnitudes uniform in {@code [lo, hi)}, e.g. safe divisors. */
    public Tensor awayFromZero(float lo, float hi, int... dims) {
        float[] v = new float[count(dims)];
        for (int i = 0; i < v.length; i++) {
            double m = lo + (hi - lo) * rng.nextDouble();
            v[i] = (float) (rng.nextBoolean() ? m : -m);
        }
        return backend.fromArray(v, Shape.of(dims));
    }

    /** Uniform F32 values in {@code [lo, hi)}. */
    public Tensor uniform(float lo, float hi, int... dims) {
        float[] v = new float[count(dims)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        }
        return backend.fromArray(v, Shape.of(dims));
    }

    /** Given F32 values. */
    public Tensor of(float[] values, int... dims) {
        return backend.fromArray(values, Shape.of(dims));
    }

    /** Uniform integers in {@code [0, bound)} as I64. */
    public Tensor longs(int bound, int... dims) {
        long[] v = new long[count(dims)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(bound);
        }
        return backend.fromArray(v, Shape.of(dims));
    }

    /** Token ids in {@code [0, vocab)} as I64 or I32. */
    public Tensor ids(DType dtype, int vocab, int... dims) {
        if (dtype == DType.I64) {
            return longs(vocab, dims);
        }
        MemorySegment seg = Arena.ofAuto().allocate(4L * count(dims));
        for (int i = 0; i < count(dims); i++) {
            seg.setAtIndex(LE_INT, i, rng.nextInt(vocab));
        }
        return backend.fromHost(seg, DType.I32, Shape.of(dims), null);
    }

    /**
     * A weight operand of {@code dtype} with normal values scaled by {@code 1/sqrt(fan-in)}, as
     * it would come from a safetensors file: F32 through fromArray, F16/BF16 as little-endian
     * host bytes, I8 as random codes with random positive per-dim-0 scales.
     */
    public Tensor weight(DType dtype, int... dims) {
        Shape shape = Shape.of(dims);
        int n = count(dims);
        double std = 1 / Math.sqrt(Math.max(1, shape.numel() / Math.max(1, dims[0])));
        switch (dtype) {
            case F32 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (rng.nextGaussian() * std);
                }
                return backend.fromArray(v, shape);
            }
            case F16, BF16 -> {
                MemorySegment seg = Arena.ofAuto().allocate(2L * n);
                for (int i = 0; i < n; i++) {
                    float v = (float) (rng.nextGaussian() * std);
                    seg.setAtIndex(LE_SHORT, i, dtype == DType.F16 ? DType.f32ToF16(v) : DType.f32ToBf16(v));
                }
                return backend.fromHost(seg, dtype, shape, null);
            }
            case I8 -> {
                MemorySegment seg = Arena.ofAuto().allocate(n);
                for (int i = 0; i < n; i++) {
                    seg.set(ValueLayout.JAVA_BYTE, i, (byte) (rng.nextInt(255) - 127));
                }
                float[] scales = new float[dims[0]];
                for (int i = 0; i < scales.length; i++) {
                    scales[i] = (float) (std / 127 * (1 + rng.nextDouble()));
                }
                return backend.fromHost(seg, DType.I8, shape, backend.fromArray(scales, Shape.of(dims[0])));
            }
            default -> throw new IllegalArgumentException("no weights of " + dtype);
        }
    }

    private static int count(int[] dims) {
        return Math.toIntExact(Shape.of(dims).numel());
    }
}
