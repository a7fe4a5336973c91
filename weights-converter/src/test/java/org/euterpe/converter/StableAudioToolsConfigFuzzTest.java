package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes stable-audio-tools' {@code model_config.json} reader ({@link StableAudioToolsCheckpoint#parseConfig}) on
 * arbitrary text. Allowed outcomes: a config whose derived sizes are consistent, or a
 * {@link CheckpointException} naming the file; anything else is a bug.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code StableAudioToolsConfigFuzzTestInputs/parseConfig/} (Stable
 * Audio Open 1.0's config and broken variants) as plain tests.
 */
class StableAudioToolsConfigFuzzTest {
    private static final Path FILE = Path.of("model_config.json");

    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void parseConfig(byte[] input) {
        StableAudioToolsCheckpoint.Config c;
        try {
            c = StableAudioToolsCheckpoint.parseConfig(new String(input, StandardCharsets.UTF_8), FILE);
        } catch (CheckpointException expected) {
            assertTrue(expected.getMessage().startsWith(FILE.toString()), expected.getMessage());
            return;
        }
        long hop = 1;
        for (int s : c.strides()) {
            hop *= s;
        }
        assertEquals(c.downsamplingRatio(), hop);
        assertEquals(c.sampleSize(), (long) c.latentFrames() * c.downsamplingRatio());
        assertEquals(0, c.embedDim() % c.numHeads());
        assertEquals(2 * c.condDim(), c.globalCondDim());
        assertEquals(c.strides().length, c.channelMults().length);
        assertTrue(c.maxSeconds() > c.minSeconds());
        assertTrue(c.audioChannels() >= 1 && c.audioChannels() <= 2);
    }

    /** Stable Audio Open 1.0's config gives the sizes of its diffusers configs (../shared/model-configs). */
    @Test
    void stableAudioOpenConfigGivesItsDiffusersSizes() throws IOException {
        String json;
        try (InputStream in = getClass().getResourceAsStream("StableAudioToolsConfigFuzzTestInputs/parseConfig/sao-1.0.json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        StableAudioToolsCheckpoint.Config c = StableAudioToolsCheckpoint.parseConfig(json, FILE);
        // transformer/config.json: sample_size 1024, 64 channels, 24 layers, 24 heads of 64, inputs 768 / 1536
        assertEquals(1024, c.latentFrames());
        assertEquals(64, c.ioChannels());
        assertEquals(24, c.depth());
        assertEquals(24, c.numHeads());
        assertEquals(64, c.attentionHeadDim());
        assertEquals(768, c.condTokenDim());
        assertEquals(1536, c.globalCondDim());
        // vae/config.json
        assertEquals(128, c.encoderChannels());
        assertEquals(128, c.decoderChannels());
        assertEquals(64, c.latentDim());
        assertArrayEquals(new int[] {2, 4, 4, 8, 8}, c.strides());
        assertArrayEquals(new int[] {1, 2, 4, 8, 16}, c.channelMults());
        assertEquals(44100, c.sampleRate());
        // projection_model/config.json and the tokenizer
        assertEquals(768, c.condDim());
        assertEquals(0.0, c.minSeconds());
        assertEquals(512.0, c.maxSeconds());
        assertEquals(128, c.maxLength());
        assertEquals("t5-base", c.t5ModelName());
    }
}
