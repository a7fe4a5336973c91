package org.euterpe.pipeline.scheduler;

/** Gaussian noise for stochastic samplers (Euler ancestral, DDIM with eta > 0). */
@FunctionalInterface
public interface NoiseSource {
    /** {@code n} standard-normal values, the next draw of the run. */
    float[] next(int n);
}
