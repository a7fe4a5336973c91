package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the WAV reader with arbitrary bytes. Allowed outcomes: audio that is well formed (at least one
 * channel and one frame, every channel the same length, a positive rate, finite samples, and the channel
 * mapping to 1, 2 and 3 channels works), or an {@link AudioFileException} with a message. Anything else (an
 * index or arithmetic exception, an out-of-memory, a hang) is a bug.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code WavReaderFuzzTestInputs/parse/} (sox-written files in
 * every format, unsupported codecs, an empty data chunk, a cut header) as a plain test.
 */
class WavReaderFuzzTest {
    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void parse(byte[] bytes) {
        WavReader.Audio a;
        try {
            a = WavReader.parse(bytes);
        } catch (AudioFileException refused) {
            assertNotNull(refused.getMessage());
            assertTrue(!refused.getMessage().isBlank());
            return;
        }
        assertTrue(a.sampleRate() > 0);
        assertTrue(a.channelCount() >= 1 && a.frames() >= 1);
        // The samples come from the file, so there cannot be more of them than bytes.
        assertTrue((long) a.channelCount() * a.frames() <= bytes.length);
        for (float[] c : a.channels()) {
            assertEquals(a.frames(), c.length);
            for (float v : c) {
                assertTrue(Float.isFinite(v));
            }
        }
        if ((long) a.frames() * a.channelCount() <= 1 << 16) {
            for (int n = 1; n <= 3; n++) {
                float[][] m = a.toChannels(n);
                assertEquals(n, m.length);
                for (float[] c : m) {
                    assertEquals(a.frames(), c.length);
                }
            }
        }
    }
}
