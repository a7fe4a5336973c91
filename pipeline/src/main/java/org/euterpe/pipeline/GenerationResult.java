package org.euterpe.pipeline;

import java.util.Map;

/**
 * The generated audio: one waveform and one mel spectrogram per output
 * (prompt-major: prompt 0's waveforms first).
 *
 * @param waveforms  mono samples at {@code sampleRate}, cut to the requested length
 * @param mels       each {@code [melFrames, melBins]}, row-major
 * @param seed       the seed that was used
 * @param settings   what the generation ran with, defaults resolved (sampler, steps, guidance, ...;
 *                   see {@link TextToAudioPipeline#settings}): what a file's metadata records
 */
public record GenerationResult(float[][] waveforms, float[][] mels, int melFrames, int melBins, int sampleRate,
        long seed, Map<String, String> settings) {
    public GenerationResult {
        settings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(settings)); // keeps the order
    }

    /** A result without recorded settings. */
    public GenerationResult(float[][] waveforms, float[][] mels, int melFrames, int melBins, int sampleRate, long seed) {
        this(waveforms, mels, melFrames, melBins, sampleRate, seed, Map.of());
    }
}
