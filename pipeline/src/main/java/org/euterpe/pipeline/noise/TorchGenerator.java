package org.euterpe.pipeline.noise;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * A seeded random generator giving, value for value, what PyTorch 1.13's CPU generator gives:
 * {@code torch.randn(shape, generator=g)} and {@code torch.rand(shape, generator=g)} with
 * {@code g = torch.Generator().manual_seed(seed)}, float32, on an x86 build with AVX2 (the build
 * diffusers users run on). Successive calls continue the state exactly as successive torch calls
 * on one generator do, so a sampler that draws fresh noise every step reproduces a diffusers run.
 *
 * <p>Two normal algorithms, chosen by element count as torch chooses them:
 * <ul>
 *   <li>fewer than 16 elements: Box-Muller in double on two 53-bit uniforms per pair; the second
 *       value of a pair is cached in the generator and returned by the next element, even across
 *       calls;</li>
 *   <li>16 or more: the whole tensor is filled with 24-bit float uniforms, then each block of 16
 *       becomes 8 Box-Muller pairs in float32 ({@link CephesF32}). A tail that is not a multiple
 *       of 16 is handled by drawing 16 fresh uniforms over the last 16 elements and transforming
 *       those again.</li>
 * </ul>
 *
 * <p>Per the ATen source, torch itself gives slightly different last bits for 16+ elements where it
 * does not run its AVX2 kernel (builds without AVX2, or dispatch to its AVX-512 kernels, which fall
 * back to libm float log/sin/cos); this class reproduces the AVX2 kernel.
 *
 * <p>Not thread-safe: one generator belongs to one sampling run.
 */
public final class TorchGenerator {
    /** Below this element count torch takes the scalar (double) path. */
    private static final int VECTOR_FILL_MIN = 16;
    /** {@code 2.0f * c10::pi<double>}: formed in double, then rounded to float. */
    private static final float TWO_PI_F = (float) (2.0 * Math.PI);

    private final Mt19937 engine;
    private long seed;
    /** The cached second value of the scalar path's last Box-Muller pair. */
    private boolean hasCachedNormal;
    private double cachedNormal;

    public TorchGenerator(long seed) {
        this.engine = new Mt19937(seed);
        this.seed = seed;
    }

    /** Re-seeds as {@code Generator.manual_seed(seed)}: only the low 32 bits matter; the cache is cleared. */
    public TorchGenerator manualSeed(long seed) {
        engine.seed(seed);
        this.seed = seed;
        hasCachedNormal = false;
        return this;
    }

    /** The seed last given ({@code Generator.initial_seed()}). */
    public long initialSeed() {
        return seed;
    }

    /** Standard normal draws, {@code [shape]} row-major, as {@code torch.randn(shape, generator=this)}. */
    public float[] randn(int... shape) {
        return randn(Shape.of(shape));
    }

    /** Standard normal draws, {@code [shape]} row-major. */
    public float[] randn(Shape shape) {
        float[] out = new float[numel(shape)];
        if (out.length >= VECTOR_FILL_MIN) {
            normalFill(out);
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) nextDoubleNormal();
            }
        }
        return out;
    }

    /** {@link #randn(Shape)} as an F32 tensor on {@code backend}. */
    public Tensor randn(Backend backend, Shape shape) {
        return backend.fromArray(randn(shape), shape);
    }

    /** Uniform draws in [0, 1), {@code [shape]} row-major, as {@code torch.rand(shape, generator=this)}. */
    public float[] rand(int... shape) {
        return rand(Shape.of(shape));
    }

    /** Uniform draws in [0, 1), {@code [shape]} row-major. */
    public float[] rand(Shape shape) {
        float[] out = new float[numel(shape)];
        fillUniform(out, 0, out.length);
        return out;
    }

    /** {@link #rand(Shape)} as an F32 tensor on {@code backend}. */
    public Tensor rand(Backend backend, Shape shape) {
        return backend.fromArray(rand(shape), shape);
    }

    private static int numel(Shape shape) {
        long n = shape.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + shape + " has " + n + " elements, more than a Java array holds");
        }
        return (int) n;
    }

    /** A float uniform in [0, 1) from the low 24 bits of one 32-bit output. */
    private float nextFloatUniform() {
        return (engine.nextInt() & 0xFFFFFF) * 0x1p-24f;
    }

    /** A double uniform in [0, 1) from the low 53 bits of one 64-bit output. */
    private double nextDoubleUniform() {
        return (engine.nextLong() & ((1L << 53) - 1)) * 0x1p-53;
    }

    private void fillUniform(float[] data, int from, int to) {
        for (int i = from; i < to; i++) {
            data[i] = nextFloatUniform();
        }
    }

    /** torch's {@code normal_distribution<double>}: Box-Muller with the sine half cached. */
    private double nextDoubleNormal() {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal;
        }
        double u1 = nextDoubleUniform();
        double u2 = nextDoubleUniform();
        // 1 - u2 lies in (0, 1], so the log is finite.
        double radius = Math.sqrt(-2.0 * StrictMath.log(1.0 - u2));
        double theta = 2.0 * Math.PI * u1;
        cachedNormal = radius * StrictMath.sin(theta);
        hasCachedNormal = true;
        return radius * StrictMath.cos(theta);
    }

    /** torch's vectorised fill for {@code data.length >= 16}. */
    private void normalFill(float[] data) {
        int n = data.length;
        fillUniform(data, 0, n);
        float[] sinCos = new float[2];
        for (int i = 0; i + VECTOR_FILL_MIN <= n; i += VECTOR_FILL_MIN) {
            boxMuller16(data, i, sinCos);
        }
        if (n % VECTOR_FILL_MIN != 0) {
            int tail = n - VECTOR_FILL_MIN;
            fillUniform(data, tail, n);
            boxMuller16(data, tail, sinCos);
        }
    }

    /**
     * Turns 16 uniforms at {@code data[off..off+16)} into 16 normals in place: element j and j+8
     * (j < 8) form one pair, radius from the first, angle from the second.
     */
    private static void boxMuller16(float[] data, int off, float[] sinCos) {
        for (int j = 0; j < 8; j++) {
            // 1 - u maps [0, 1) to (0, 1] so the log is finite.
            float u1 = 1f - data[off + j];
            float u2 = data[off + j + 8];
            float radius = (float) Math.sqrt(-2f * CephesF32.log(u1));
            CephesF32.sinCos(TWO_PI_F * u2, sinCos);
            data[off + j] = radius * sinCos[1];
            data[off + j + 8] = radius * sinCos[0];
        }
    }
}
