package org.euterpe.pipeline;

/**
 * Receives the intermediate arrays of a generation under the reference's record names
 * ({@code prompt_embeds}, {@code unet.K.sample}, {@code unet.K.out}, {@code step.K.model_output},
 * {@code step.K.prev_sample}, {@code vae_decode_in}, {@code mel}, {@code waveform_full},
 * {@code audio}), for the conformance runner and debugging.
 */
@FunctionalInterface
public interface StepTrace {
    StepTrace NONE = (name, value) -> {
    };

    void record(String name, float[] value);
}
