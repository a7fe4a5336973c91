package org.euterpe.pipeline.stableaudio;

import org.euterpe.pipeline.noise.TorchGenerator;
import org.euterpe.tensor.NormalNoise;

/**
 * The Gaussian noise one Stable Audio generation draws: the initial latents, the noise of the init audio's
 * posterior sample, and the SDE noise of each sampler step. {@link #seeded} is the engine's own (the same
 * on every backend); a conformance replay supplies the recorded draws instead.
 */
public interface StableAudioNoise {
    /** The initial latents, unit variance ({@code [batch, channels, frames]}, row-major). */
    float[] latents(int[] shape);

    /** The noise of {@code latent_dist.sample(generator)} for the initial audio. */
    float[] initAudio(int[] shape);

    /** The unit-variance SDE noise of step {@code step} ({@code n} values). */
    float[] step(int step, int n);

    /**
     * Latents and init-audio noise from torch's CPU generator seeded with {@code seed}, in diffusers' order
     * (latents first), so they equal diffusers' for the same seed; the step noise (diffusers: torchsde's
     * Brownian tree, which is not reproduced) from the engine's normal sampler, one stream per step.
     */
    static StableAudioNoise seeded(long seed) {
        TorchGenerator torch = new TorchGenerator(seed);
        return new StableAudioNoise() {
            @Override
            public float[] latents(int[] shape) {
                return torch.randn(shape);
            }

            @Override
            public float[] initAudio(int[] shape) {
                return torch.randn(shape);
            }

            @Override
            public float[] step(int step, int n) {
                return NormalNoise.sample(mix(seed, step), n);
            }
        };
    }

    /** A per-step seed (SplitMix64's finaliser of seed and step). */
    private static long mix(long seed, int step) {
        long z = seed + 0x9E3779B97F4A7C15L * (step + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
