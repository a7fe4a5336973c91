package org.euterpe.pipeline;

import java.util.Map;

/**
 * The generated audio of any family: one waveform per output (prompt-major for text models:
 * prompt 0's waveforms first), and for the latent models one mel spectrogram per output.
 *
 * @param waveforms  samples at {@code sampleRate}, cut to the requested length; with more than one
 *                   channel, frames interleaved ({@code [l0, r0, l1, r1, ...]}, the WAV order)
 * @param mels       each {@code [melFrames, melBins]}, row-major; empty for waveform models
 * @param seed       the seed that was used
 * @param channels   1 (mono: AudioLDM, MusicLDM) or the model's channel count (Dance Diffusion: 2)
 * @param settings   what the generation ran with, defaults resolved (sampler, steps, guidance, ...;
 *                   see {@link TextToAudioPipeline#settings}): what a file's metadata records
 */
public record GenerationResult(float[][] waveforms, float[][] mels, int melFrames, int melBins, int sampleRate,
        long seed, int channels, Map<String, String> settings) {

    public GenerationResult {
        if (channels < 1) {
            throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        }
        settings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(settings)); // keeps the order
    }

    /** A mono result without recorded settings. */
    public GenerationResult(float[][] waveforms, float[][] mels, int melFrames, int melBins, int sampleRate,
            long seed) {
        this(waveforms, mels, melFrames, melBins, sampleRate, seed, 1, Map.of());
    }

    /** A result without recorded settings. */
    public GenerationResult(float[][] waveforms, float[][] mels, int melFrames, int melBins, int sampleRate,
            long seed, int channels) {
        this(waveforms, mels, melFrames, melBins, sampleRate, seed, channels, Map.of());
    }

    /** A mono result. */
    public GenerationResult(float[][] waveforms, float[][] mels, int melFrames, int melBins, int sampleRate,
            long seed, Map<String, String> settings) {
        this(waveforms, mels, melFrames, melBins, sampleRate, seed, 1, settings);
    }

    /** Frames per waveform: samples per channel of output {@code i}. */
    public int frames(int i) {
        return waveforms[i].length / channels;
    }
}
