package org.euterpe.pipeline.stableaudio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Trace;
import org.euterpe.nn.oobleck.AutoencoderOobleck;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's Oobleck decode ({@link StableAudioPipeline#decodeLatents}, what {@code generate} runs) tells its
 * listener each tile as progress of the "decode" stage, in order, ending at the tile count, on the tiny
 * conformance VAE with latents long enough to tile at {@link StableAudioPipeline#DECODE_TILE_FRAMES}.
 */
class StableAudioDecodeProgressTest {
    @Test
    void theListenerSeesOnePartPerTileInOrder() throws Exception {
        Backend backend = Backends.cpu();
        try (ComponentFiles files = ComponentFiles.open(TestData.conformanceCase("tiny-stable-audio"), "vae");
                Scope scope = Scope.open()) {
            AutoencoderOobleck vae = AutoencoderOobleck.load(files, backend);
            int frames = 2 * StableAudioPipeline.DECODE_TILE_FRAMES + 40; // 3 tiles of at most 256 frames
            Tensor z = backend.randn(Shape.of(1, vae.config().decoderInputChannels(), frames), 11);
            List<String> seen = new ArrayList<>();
            float[] tiled = StableAudioPipeline.decodeLatents(vae, z, new ProgressListener() {
                @Override
                public void onStageProgress(String stage, int done, int total) {
                    seen.add(stage + " " + done + "/" + total);
                }
            }).toFloatArray();
            assertEquals(List.of("decode 1/3", "decode 2/3", "decode 3/3"), seen);
            float[] whole = vae.decode(z, Trace.NONE).toFloatArray();
            float peak = 0;
            for (float v : whole) {
                peak = Math.max(peak, Math.abs(v));
            }
            assertArrayEquals(whole, tiled, 1e-5f * peak, "the tiles join into the one-piece decode");

            seen.clear();
            StableAudioPipeline.decodeLatents(vae, z.slice(2, 0, 100), new ProgressListener() {
                @Override
                public void onStageProgress(String stage, int done, int total) {
                    seen.add(stage + " " + done + "/" + total);
                }
            });
            assertEquals(List.of(), seen, "a short clip decodes in one piece, with no parts to tell");
        }
    }
}
