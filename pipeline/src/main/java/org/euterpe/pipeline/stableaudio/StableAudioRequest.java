package org.euterpe.pipeline.stableaudio;

import java.util.List;
import java.util.Objects;

/**
 * One Stable Audio generation, with {@code StableAudioPipeline.__call__}'s parameters.
 *
 * @param prompts            one or more prompts
 * @param negativePrompts    null, or one per prompt (used only with guidance)
 * @param guidanceScale      classifier-free guidance; at most 1 runs the model once per step, unguided
 * @param steps              denoising steps
 * @param audioStartInS      {@code audio_start_in_s}: the timing conditioning and the start of the cut
 * @param audioEndInS        {@code audio_end_in_s}, or null for the model's maximum
 * @param waveformsPerPrompt {@code num_waveforms_per_prompt}
 * @param seed               seeds the initial latents (torch's generator, as diffusers draws them), the
 *                           init-audio posterior sample, and the per-step SDE noise
 * @param initialAudio       null, or per prompt {@code [channels][samples]} at the model's rate
 * @param initNoiseLevel     with initial audio: null adds the encoded audio to noise at σ_max, as diffusers
 *                           does; a level σ (stable-audio-tools' {@code init_noise_level}) starts the
 *                           schedule at σ from {@code encoded + σ·noise}
 */
public record StableAudioRequest(List<String> prompts, List<String> negativePrompts, double guidanceScale, int steps,
        double audioStartInS, Double audioEndInS, int waveformsPerPrompt, long seed, float[][][] initialAudio,
        Double initNoiseLevel) {

    public StableAudioRequest {
        prompts = List.copyOf(Objects.requireNonNull(prompts, "prompts"));
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("at least one prompt is needed");
        }
        if (negativePrompts != null) {
            negativePrompts = List.copyOf(negativePrompts);
            if (negativePrompts.size() != prompts.size()) {
                throw new IllegalArgumentException(negativePrompts.size() + " negative prompts for " + prompts.size()
                        + " prompts");
            }
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        if (waveformsPerPrompt < 1) {
            throw new IllegalArgumentException("waveforms per prompt must be at least 1, got " + waveformsPerPrompt);
        }
        if (!Double.isFinite(guidanceScale) || !Double.isFinite(audioStartInS)
                || (audioEndInS != null && !Double.isFinite(audioEndInS))) {
            throw new IllegalArgumentException("guidance scale and seconds must be finite numbers");
        }
        if (audioStartInS < 0) {
            throw new IllegalArgumentException("seconds start must be >= 0, got " + audioStartInS);
        }
        if (audioEndInS != null && !(audioEndInS > audioStartInS)) {
            throw new IllegalArgumentException("seconds end (" + audioEndInS + ") must be after seconds start ("
                    + audioStartInS + ")");
        }
        if (initialAudio != null && initialAudio.length != prompts.size()) {
            throw new IllegalArgumentException(initialAudio.length + " initial audio clips for " + prompts.size()
                    + " prompts");
        }
        if (initNoiseLevel != null && !(initNoiseLevel > 0)) {
            throw new IllegalArgumentException("init noise level must be positive, got " + initNoiseLevel);
        }
    }

    /** A single prompt with the reference's defaults (100 steps, guidance 7, the full length). */
    public static StableAudioRequest of(String prompt, long seed) {
        return new StableAudioRequest(List.of(prompt), null, 7.0, 100, 0.0, null, 1, seed, null, null);
    }
}
