package org.euterpe.pipeline.scheduler;

/**
 * A diffusion sampler, as diffusers' schedulers run it: {@link #setTimesteps}, then for each
 * index {@code i} of {@link #timesteps()}: {@link #scaleModelInput}, a U-Net call at
 * {@code timesteps()[i]}, and {@link #step}.
 *
 * <p>Latents are flat float arrays ({@code [batch * channels * height * width]}): a step is a
 * few element-wise passes over a few thousand values, so it runs on the host on every backend.
 * The arithmetic is float32 in the same order as the reference's tensor ops, so per-step
 * results agree with diffusers to float rounding.
 */
public abstract class Scheduler {
    protected final SchedulerConfig config;
    /** {@code cumprod(1 - betas)}, float32, {@code [num_train_timesteps]}. */
    protected final float[] alphasCumprod;
    protected int numInferenceSteps;

    protected Scheduler(SchedulerConfig config) {
        this.config = config;
        this.alphasCumprod = alphasCumprod(betas(config));
    }

    /** A new scheduler of {@code kind}. */
    public static Scheduler create(SamplerKind kind, SchedulerConfig config) {
        return switch (kind) {
            case DDIM -> new DdimScheduler(config);
            case PNDM -> new PndmScheduler(config);
            case LMS -> new LmsDiscreteScheduler(config);
            case EULER -> new EulerDiscreteScheduler(config);
            case EULER_ANCESTRAL -> new EulerAncestralDiscreteScheduler(config);
            case HEUN -> new HeunDiscreteScheduler(config);
            case DPMPP_2M -> new DpmSolverMultistepScheduler(config);
            case UNIPC -> new UniPcMultistepScheduler(config);
        };
    }

    /** Prepares {@code n} inference steps and resets any multistep state. */
    public abstract void setTimesteps(int n);

    /** The timesteps to call the U-Net at, in order (may repeat for PNDM and Heun). */
    public abstract double[] timesteps();

    /** Whether the U-Net gets integer timesteps (DDIM, PNDM, DPM++, UniPC) or float ones (sigma samplers). */
    public abstract boolean integerTimesteps();

    /** The scale of the initial noise. */
    public float initNoiseSigma() {
        return 1f;
    }

    /** The U-Net input for step {@code index}; the identity unless the sampler is sigma-based. */
    public float[] scaleModelInput(float[] sample, int index) {
        return sample;
    }

    /**
     * One step: the previous (less noisy) sample from the guided model output at
     * {@code timesteps()[index]}.
     *
     * @param noise used by stochastic samplers only; may be null for the others
     */
    public abstract float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise);

    /** The sigmas array where the sampler has one (reference semantics), else null. */
    public float[] sigmas() {
        return null;
    }

    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    // ------------------------------------------------------------ audio in: noising known latents

    /**
     * Calls of {@link #timesteps()} per inference step: 2 for Heun, else 1 (diffusers' {@code order}), so a
     * partial schedule starts at {@code steps_skipped * order()}.
     */
    public int order() {
        return 1;
    }

    /**
     * diffusers' {@code add_noise}: {@code original} noised to the level the sample has when it enters step
     * {@code index}; {@code index == timesteps().length} (after the last step) returns {@code original}.
     * Alpha samplers (DDIM, PNDM, DPM++, UniPC): {@code sqrt(a_t) x0 + sqrt(1 - a_t) noise} at the integer
     * timestep {@code t = timesteps()[index]}, in float32 as the reference.
     */
    public float[] addNoise(float[] original, float[] noise, int index) {
        double[] ts = timesteps();
        if (index == ts.length) {
            return original.clone();
        }
        checkIndex(index, ts.length);
        float a = alphasCumprod[(int) ts[index]];
        float sa = sqrt(a);
        float sb = sqrt(1 - a);
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sa * original[i] + sb * noise[i];
        }
        return out;
    }

    protected void checkSteps(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + n);
        }
        if (n > config.numTrainTimesteps()) {
            throw new IllegalArgumentException("steps (" + n + ") cannot exceed num_train_timesteps ("
                    + config.numTrainTimesteps() + ")");
        }
        numInferenceSteps = n;
    }

    protected void checkIndex(int index, int length) {
        if (index < 0 || index >= length) {
            throw new IllegalArgumentException("step index " + index + " outside [0, " + length + ")");
        }
    }

    // ------------------------------------------------------------ schedules (float32, as torch)

    static float[] betas(SchedulerConfig c) {
        int n = c.numTrainTimesteps();
        if (c.trainedBetas() != null) {
            if (c.trainedBetas().length != n) {
                throw new IllegalArgumentException("trained_betas has " + c.trainedBetas().length
                        + " values, num_train_timesteps is " + n);
            }
            return c.trainedBetas().clone();
        }
        return switch (c.betaSchedule()) {
            case "linear" -> torchLinspace((float) c.betaStart(), (float) c.betaEnd(), n);
            case "scaled_linear" -> {
                float[] b = torchLinspace((float) Math.sqrt(c.betaStart()), (float) Math.sqrt(c.betaEnd()), n);
                for (int i = 0; i < n; i++) {
                    b[i] = b[i] * b[i];
                }
                yield b;
            }
            case "squaredcos_cap_v2" -> {
                float[] b = new float[n];
                for (int i = 0; i < n; i++) {
                    double t1 = (double) i / n;
                    double t2 = (double) (i + 1) / n;
                    b[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
                }
                yield b;
            }
            default -> throw new IllegalArgumentException("unsupported beta_schedule " + c.betaSchedule());
        };
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /**
     * {@code torch.linspace(start, end, steps, dtype=float32)} of torch 1.13 on the CPU, bit for
     * bit (checked against the goldens' alphas_cumprod): the step is a float; the first half
     * counts up from {@code start}, the second down from {@code end}; ATen fills 8-wide vectors
     * as {@code base + i*step}, where each vector's base comes from its first index (whose half
     * picks the formula for all 8) and is computed with a fused multiply-add, as the compiler
     * contracted it; the tail that does not fill two vectors goes element by element, also fused.
     */
    static float[] torchLinspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        final int vec = 8;
        int vectorised = steps - steps % (2 * vec);
        for (int base = 0; base < vectorised; base += vec) {
            float first = linspaceAt(start, end, step, steps, halfway, base);
            for (int i = 0; i < vec; i++) {
                out[base + i] = first + (float) i * step;
            }
        }
        for (int idx = vectorised; idx < steps; idx++) {
            out[idx] = linspaceAt(start, end, step, steps, halfway, idx);
        }
        return out;
    }

    private static float linspaceAt(float start, float end, float step, int steps, int halfway, int idx) {
        return idx < halfway ? Math.fma(step, (float) idx, start) : Math.fma(-step, (float) (steps - idx - 1), end);
    }

    /** {@code torch.cumprod(1 - betas)}: ATen accumulates a float cumprod in double. */
    static float[] alphasCumprod(float[] betas) {
        float[] out = new float[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            acc *= (1.0f - betas[i]);
            out[i] = (float) acc;
        }
        return out;
    }

    /**
     * The {@code n} inference timesteps of the configured spacing, descending, as the reference
     * computes them before its per-class casts: {@code linspace} is not rounded here (DDIM-style
     * schedulers round it, sigma-based ones keep the fractions), {@code trailing} is rounded.
     */
    protected double[] spacedTimesteps(int n) {
        int train = config.numTrainTimesteps();
        double[] t = new double[n];
        switch (config.timestepSpacing()) {
            case "linspace" -> {
                double step = (double) (train - 1) / (n - 1 == 0 ? 1 : n - 1);
                for (int i = 0; i < n; i++) {
                    double v = n == 1 ? 0 : (i == n - 1 ? train - 1 : i * step);
                    t[n - 1 - i] = v;
                }
            }
            case "leading" -> {
                int ratio = train / n;
                for (int i = 0; i < n; i++) {
                    t[n - 1 - i] = (double) i * ratio + config.stepsOffset();
                }
            }
            case "trailing" -> {
                double ratio = (double) train / n;
                for (int i = 0; i < n; i++) {
                    t[i] = Math.rint(train - i * ratio) - 1;
                }
            }
            default -> throw new IllegalArgumentException("unsupported timestep_spacing " + config.timestepSpacing());
        }
        return t;
    }

    /** Integer or float32 timesteps as the doubles {@link #timesteps()} returns. */
    protected static double[] widen(int[] t) {
        return java.util.Arrays.stream(t).asDoubleStream().toArray();
    }

    protected static double[] widen(float[] t) {
        double[] d = new double[t.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = t[i];
        }
        return d;
    }

    /** Float32 sqrt, as torch's {@code x ** 0.5}. */
    protected static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }
}
