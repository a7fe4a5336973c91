package org.euterpe.nn.stableaudio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.oobleck.OobleckConfig;
import org.euterpe.nn.t5.T5Config;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;

/**
 * The full-size stable-audio-open-1.0 configs ({@code shared/model-configs}) are read strictly (every key
 * known) into the sizes FORMAT-STABLE-AUDIO.md states.
 */
class FullSizeConfigsTest {
    @Test
    void stableAudioOpenConfigsAreUnderstood() throws Exception {
        Path dir = TestData.sharedOrSkip("model-configs/stable-audio-open-1.0");
        T5Config t5 = T5Config.read(ComponentFiles.readConfig(dir.resolve("text_encoder/config.json")));
        assertEquals(768, t5.dModel());
        assertEquals(12, t5.numLayers());
        assertEquals(32, t5.relativeAttentionNumBuckets());
        StableAudioDiTConfig dit = StableAudioDiTConfig.read(ComponentFiles.readConfig(dir.resolve("transformer/config.json")));
        assertEquals(1536, dit.innerDim());
        assertEquals(12, dit.numKeyValueAttentionHeads());
        assertEquals(32, dit.rotaryEmbedDim());
        OobleckConfig vae = OobleckConfig.read(ComponentFiles.readConfig(dir.resolve("vae/config.json")));
        assertEquals(2048, vae.hopLength());
        assertEquals(64, vae.latentChannels());
        // 1024 frames x 2048 / 44100 = 47.55 s
        assertEquals(47.55, (double) dit.sampleSize() * vae.hopLength() / vae.samplingRate(), 0.01);
    }
}
