package org.euterpe.pipeline;

/**
 * The generated audio: one waveform and one mel spectrogram per output
 * (prompt-major: prompt 0's waveforms first).
 *
 * @param waveforms  mono samples at {@code sampleRate}, cut to the requested length
 * @param mels       each {@code [melFrames, melBins]}, row-major
 * @param seed       the seed that was used
 */
public record GenerationResult(float[][] waveforms, float[][] mels, int melFrames, int melBins, int sampleRate,
        long seed) {
}
