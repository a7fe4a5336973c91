package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.vae.AutoencoderKL;
import org.euterpe.nn.vocoder.SpeechT5HifiGan;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.NormalNoise;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;

/** Long clips: the tiled VAE decode and the chunked vocoder against the one-piece runs. */
class LongClipTest {
    private static final Backend CPU = Backends.cpu();

    /** {max |a - b| / max |b|, rms(a - b) / rms(b)}. */
    static double[] error(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        double maxDiff = 0;
        double maxRef = 0;
        double sq = 0;
        double ref = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            maxDiff = Math.max(maxDiff, d);
            maxRef = Math.max(maxRef, Math.abs(b[i]));
            sq += d * d;
            ref += (double) b[i] * b[i];
        }
        return new double[] {maxDiff / maxRef, Math.sqrt(sq / ref)};
    }

    static float[] decode(AutoencoderKL vae, Tensor z) {
        try (Scope s = Scope.open()) {
            return vae.decode(z).toFloatArray();
        }
    }

    static float[] decodeTiled(AutoencoderKL vae, Tensor z, AutoencoderKL.Tiling t) {
        try (Scope s = Scope.open()) {
            return vae.decodeTiled(z, t, (d, n) -> { }).toFloatArray();
        }
    }

    static Tensor latent(AutoencoderKL vae, int frames, int width, long seed) {
        float inv = (float) (1.0 / vae.scalingFactor().orElse(1.0));
        float[] z = NormalNoise.sample(seed, vae.latentChannels() * frames * width);
        for (int i = 0; i < z.length; i++) {
            z[i] *= inv;
        }
        return CPU.fromArray(z, Shape.of(1, vae.latentChannels(), frames, width));
    }

    /** Exploration (opt-in, -Deuterpe.explore=true): error of tile settings on the mini and full-size VAEs. */
    @Test
    void exploreVaeTiling() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("euterpe.explore"), "exploration only");
        int[][] settings = {{96, 8, 8}, {144, 16, 16}, {144, 8, 24}, {144, 0, 48}, {200, 16, 16}, {240, 16, 16}};
        try (AudioModel mini = AudioModel.load(TestData.sharedOrSkip("conformance/mini-audioldm-s"), CPU)) {
            report("mini", mini.vae(), 250, 16, settings);
        }
        Path cfg = TestData.sharedOrSkip("model-configs/audioldm-s-full-v2");
        try (AudioModel full = RandomModel.build(cfg, CPU, DType.F32, 0, Set.of("vae"))) {
            report("full", full.vae(), 250, 16, settings);
            report("full", full.vae(), 500, 16, new int[][] {{144, 16, 16}, {288, 16, 16}});
        }
    }

    @Test
    void exploreVaePrefix() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("euterpe.explore2"), "exploration only");
        try (AudioModel mini = AudioModel.load(TestData.sharedOrSkip("conformance/mini-audioldm-s"), CPU)) {
            AutoencoderKL vae = mini.vae();
            Tensor z = latent(vae, 1000, 16, 7);
            float[] ref = decode(vae, z);
            int rowsPer = ref.length / 1000;
            float[] same = decode(vae, z.slice(2, 0, 1000));
            System.out.printf(Locale.ROOT, "slice of everything: max %.3e%n", error(same, ref)[0]);
            for (int len : new int[] {40, 80, 160, 320, 640}) {
                float[] part = decode(vae, z.slice(2, 0, len));
                int head = 20 * rowsPer;
                double[] e = error(java.util.Arrays.copyOfRange(part, 0, head), java.util.Arrays.copyOfRange(ref, 0, head));
                System.out.printf(Locale.ROOT, "prefix %d of 1000: first 20 frames max %.3e rms %.3e%n", len, e[0], e[1]);
            }
        }
    }

    private static void report(String name, AutoencoderKL vae, int frames, int width, int[][] settings) {
        Tensor z = latent(vae, frames, width, 7);
        float[] ref = decode(vae, z);
        for (int[] s : settings) {
            AutoencoderKL.Tiling t = new AutoencoderKL.Tiling(s[0], s[1], s[2]);
            long t0 = System.nanoTime();
            float[] tiled = decodeTiled(vae, z, t);
            double[] e = error(tiled, ref);
            int rowsPer = ref.length / frames; // f * width * f per latent frame, batch 1, 1 channel
            int core = Math.min(frames, t.tileLength(frames) - t.overlapFrames());
            double[] head = error(java.util.Arrays.copyOfRange(tiled, 0, core / 2 * rowsPer),
                    java.util.Arrays.copyOfRange(ref, 0, core / 2 * rowsPer));
            System.out.printf(Locale.ROOT, "%s tile %d margin %d blend %d: %d tiles of %d, max %.3e rms %.3e;"
                    + " first tile's first half rms %.3e (%.1f s)%n",
                    name, s[0], s[1], s[2], t.tiles(frames), t.tileLength(frames), e[0], e[1], head[1],
                    (System.nanoTime() - t0) / 1e9);
        }
    }
}
