package org.euterpe.pipeline.scheduler;

/**
 * The v-diffusion sampler of Harmonai's Dance Diffusion notebook (v-diffusion-pytorch
 * {@code sampling.sample} / {@code reverse_sample} with eta 0, "v-DDIM"), on the crash schedule,
 * for the regenerate and interpolate verbs (FORMAT-DANCE.md sections 6 and 7):
 *
 * <pre>
 *   alpha, sigma = cos(pi t / 2), sin(pi t / 2)          at the warped time t
 *   pred = x alpha - v sigma;   eps = x sigma + v alpha
 *   x'   = pred alpha' + eps sigma'                       (the next time's alpha', sigma')
 * </pre>
 * Float32 in the reference's op order; samples are flat host arrays.
 */
public final class VDiffusion {
    private VDiffusion() {
    }

    /**
     * The notebook's {@code get_crash_schedule(t)}: {@code sigma = sin(pi t / 2)^2},
     * {@code alpha = sqrt(1 - sigma^2)}, {@code atan2(sigma, alpha) * 2 / pi}.
     */
    public static float[] crashSchedule(float[] t) {
        float pi = (float) Math.PI;
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            float s = (float) Math.sin(t[i] * pi / 2f);
            float sigma = s * s;
            float alpha = (float) Math.sqrt(1f - sigma * sigma);
            out[i] = (float) Math.atan2(sigma, alpha) / pi * 2f;
        }
        return out;
    }

    /** torch's float32 {@code linspace(start, end, steps)}. */
    public static float[] linspace(float start, float end, int steps) {
        return IpndmScheduler.linspace(start, end, steps);
    }

    /** {@code cos(t * pi / 2)} per time, float32 as torch ({@code (t * pi) / 2} first). */
    public static float[] alphas(float[] t) {
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = (float) Math.cos(t[i] * (float) Math.PI / 2f);
        }
        return out;
    }

    /** {@code sin(t * pi / 2)} per time. */
    public static float[] sigmas(float[] t) {
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = (float) Math.sin(t[i] * (float) Math.PI / 2f);
        }
        return out;
    }

    /** {@code x alpha - v sigma}: the clean-signal estimate. */
    public static float[] pred(float[] x, float[] v, float alpha, float sigma) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * alpha - v[i] * sigma;
        }
        return out;
    }

    /**
     * One v-DDIM step (eta 0) from time index {@code i} to {@code i + 1}:
     * {@code pred alpha' + eps sigma'}.
     */
    public static float[] step(float[] x, float[] v, float alpha, float sigma, float nextAlpha, float nextSigma) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            float pred = x[i] * alpha - v[i] * sigma;
            float eps = x[i] * sigma + v[i] * alpha;
            out[i] = pred * nextAlpha + eps * nextSigma;
        }
        return out;
    }
}
