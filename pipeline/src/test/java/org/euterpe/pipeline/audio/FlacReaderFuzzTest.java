package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the FLAC decoder with arbitrary bytes. Allowed outcomes: well-formed audio (at least one channel
 * and one frame, equal lengths, a positive rate, finite samples in [-1, 1))
 * or an {@link AudioFileException} with a message. Without {@code JAZZER_FUZZ} this replays
 * {@code FlacReaderFuzzTestInputs/parse/} (sox-encoded files: mono, stereo mid/side, 24-bit with wasted bits,
 * silent, and {@code out-of-range-prediction}: Jazzer's one finding, an LPC predictor that left the sample
 * range and was returned as a sample of -2215; now refused) as a plain test.
 */
class FlacReaderFuzzTest {
    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void parse(byte[] bytes) {
        WavReader.Audio a;
        try {
            a = FlacReader.parse(bytes);
        } catch (AudioFileException refused) {
            assertTrue(refused.getMessage() != null && !refused.getMessage().isBlank());
            return;
        }
        assertTrue(a.sampleRate() > 0 && a.channelCount() >= 1 && a.frames() >= 1);
        for (float[] c : a.channels()) {
            assertEquals(a.frames(), c.length);
            for (float v : c) {
                assertTrue(Float.isFinite(v) && v >= -1 && v < 1, "sample " + v);
            }
        }
    }
}
