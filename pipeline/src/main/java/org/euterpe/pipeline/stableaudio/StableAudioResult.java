package org.euterpe.pipeline.stableaudio;

/**
 * Generated audio, prompt-major (prompt 0's waveforms first).
 *
 * @param audio      {@code [waveform][channel][samples]}, cut to {@code [audio_start_in_s, audio_end_in_s)}
 * @param sampleRate the model's rate
 * @param seed       the seed that was used
 */
public record StableAudioResult(float[][][] audio, int sampleRate, long seed) {
}
