package org.euterpe.nn.oobleck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.stableaudio.StableAudioBackends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link AutoencoderOobleck#decodeTiled} against the one-piece decode of the same latents on the tiny
 * Stable Audio VAE: with margins wider than the decoder's receptive field the tiles join into the same
 * waveform (tolerance 1e-5 of the peak: summation order only), and without margins they do not (so the
 * comparison can fail: a wrong crop or offset shows as well).
 */
class OobleckTiledDecodeTest {

    @Test
    void tilesWithMarginsEqualTheOnePieceDecode() throws Exception {
        Backend backend = StableAudioBackends.open("cpu");
        try (ConformanceGolden golden = ConformanceGolden.open("tiny-stable-audio", "tiled-decode");
                ComponentFiles files = ComponentFiles.open(golden.dir(), "vae");
                Scope scope = Scope.open()) {
            AutoencoderOobleck vae = AutoencoderOobleck.load(files, backend);
            int margin = vae.receptiveFieldFrames();
            assertTrue(margin == 21, "tiny decoder's receptive field in frames: " + margin);
            int frames = 77; // not a multiple of the tile: 10 tiles of 8 frames, the last of 5
            Tensor z = backend.randn(Shape.of(2, vae.config().decoderInputChannels(), frames), 7);
            float[] whole = vae.decode(z, org.euterpe.nn.Trace.NONE).toFloatArray();
            float[] tiled = vae.decodeTiled(z, 8, margin).toFloatArray();
            assertArrayEquals(whole, tiled, 1e-5f * peak(whole), "tiles of 8 frames, " + margin + " frames of margin");
            float[] bare = vae.decodeTiled(z, 8, 0).toFloatArray();
            assertTrue(maxDiff(whole, bare) > 1e-3 * peak(whole), "without margins the seams must differ");
            // at most tile + margin frames: one piece, the same call as decode (JIT tiers may round FMAs apart)
            assertArrayEquals(whole, vae.decodeTiled(z, 72, 5).toFloatArray(), 1e-6f * peak(whole));
        }
    }

    @Test
    void eachTileIsReportedInOrderEndingAtTheTileCount() throws Exception {
        Backend backend = StableAudioBackends.open("cpu");
        try (ConformanceGolden golden = ConformanceGolden.open("tiny-stable-audio", "tiled-decode-progress");
                ComponentFiles files = ComponentFiles.open(golden.dir(), "vae");
                Scope scope = Scope.open()) {
            AutoencoderOobleck vae = AutoencoderOobleck.load(files, backend);
            Tensor z = backend.randn(Shape.of(1, vae.config().decoderInputChannels(), 77), 3);
            java.util.List<String> parts = new java.util.ArrayList<>();
            float[] reported = vae.decodeTiled(z, 8, vae.receptiveFieldFrames(),
                    (done, total) -> parts.add(done + "/" + total)).toFloatArray();
            java.util.List<String> expected = new java.util.ArrayList<>();
            for (int i = 1; i <= 10; i++) { // 77 frames in tiles of at most 8: 10 tiles
                expected.add(i + "/10");
            }
            assertEquals(expected, parts);
            float[] silent = vae.decodeTiled(z, 8, vae.receptiveFieldFrames()).toFloatArray();
            // the same calls either way (JIT tiers may round FMAs apart, as above)
            assertArrayEquals(silent, reported, 1e-6f * peak(silent), "telling progress changes nothing decoded");
            parts.clear();
            vae.decodeTiled(z, 72, 5, (done, total) -> parts.add(done + "/" + total));
            assertEquals(java.util.List.of(), parts, "a clip decoded in one piece has no parts to tell");
        }
    }

    @Test
    void encodeTilesWithMarginsEqualTheOnePieceEncode() throws Exception {
        Backend backend = StableAudioBackends.open("cpu");
        try (ConformanceGolden golden = ConformanceGolden.open("tiny-stable-audio", "tiled-encode");
                ComponentFiles files = ComponentFiles.open(golden.dir(), "vae");
                Scope scope = Scope.open()) {
            AutoencoderOobleck vae = AutoencoderOobleck.load(files, backend);
            int margin = vae.encoderReceptiveFieldFrames();
            assertTrue(margin == 18, "tiny encoder's receptive field in frames: " + margin);
            int hop = vae.config().hopLength();
            int frames = 61; // tiles of at most 8 frames: 8 tiles of 8, the last of 5
            Tensor audio = backend.randn(Shape.of(2, vae.config().audioChannels(), frames * hop), 5);
            OobleckDiagonalGaussianDistribution whole = vae.encode(audio, org.euterpe.nn.Trace.NONE);
            OobleckDiagonalGaussianDistribution tiled = vae.encodeTiled(audio, 8, margin);
            float[] mean = whole.mean().toFloatArray();
            float[] std = whole.std().toFloatArray();
            assertArrayEquals(mean, tiled.mean().toFloatArray(), 1e-5f * peak(mean), "mean, margin " + margin);
            assertArrayEquals(std, tiled.std().toFloatArray(), 1e-5f * peak(std), "std, margin " + margin);
            assertArrayEquals(whole.scale().toFloatArray(), tiled.scale().toFloatArray(),
                    1e-5f * peak(whole.scale().toFloatArray()), "scale");
            float[] bare = vae.encodeTiled(audio, 8, 0).mean().toFloatArray();
            assertTrue(maxDiff(mean, bare) > 1e-3 * peak(mean), "without margins the seams must differ");
            // a margin one frame short of the receptive field may already differ; one frame less than needed by
            // the first block alone must: the check can fail
            float[] short1 = vae.encodeTiled(audio, 8, 2).mean().toFloatArray();
            assertTrue(maxDiff(mean, short1) > 1e-5 * peak(mean), "a 2-frame margin is too narrow");
        }
    }

    private static float peak(float[] a) {
        float m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
