package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.scheduler.SamplerKind;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The audio-in verbs on the bundled tiny AudioLDM (random weights, so only properties are checked: the ones
 * a wrong implementation breaks).
 */
class AudioInTest {
    private static TextToAudioPipeline pipe;

    @BeforeAll
    static void load() throws IOException {
        pipe = Euterpe.loadTextToAudio(null, Euterpe.Options.defaults().withDevice("cpu"));
    }

    @AfterAll
    static void close() {
        pipe.close();
    }

    /** A 0.2 s two-tone stereo clip at 22.05 kHz (so it is down-mixed and resampled on the way in). */
    static WavReader.Audio clip(double seconds, double hz) {
        int n = (int) (seconds * 22050);
        float[][] ch = new float[2][n];
        for (int i = 0; i < n; i++) {
            ch[0][i] = (float) (0.4 * Math.sin(2 * Math.PI * hz * i / 22050));
            ch[1][i] = (float) (0.3 * Math.sin(2 * Math.PI * 2.5 * hz * i / 22050));
        }
        return new WavReader.Audio(ch, 22050, 0);
    }

    static GenerationRequest.Builder base() {
        return GenerationRequest.builder("a flute melody").steps(4).seed(11).sampler(SamplerKind.DDIM);
    }

    /** The clip's VAE round trip at the length {@code req} gives: encode, decode, vocode, cut. */
    static float[] roundTrip(GenerationRequest req) {
        AudioModel m = pipe.model();
        var voc = m.vocoder().config();
        LatentGeometry geo = LatentGeometry.of(AudioIn.defaultSeconds(req), 1, m.unet().inChannels(),
                m.vae().vaeScaleFactor(), voc.modelInDim(), voc.upsampleRates(), voc.samplingRate(), m.unetSampleSize());
        float[] z = AudioIn.encodeLatents(m, req.sourceAudio(), geo.height(), null);
        float inv = (float) (1 / m.vae().scalingFactor().orElse(1.0));
        for (int i = 0; i < z.length; i++) {
            z[i] *= inv;
        }
        int[] s = geo.latentShape();
        try (Scope scope = Scope.open()) {
            Tensor mel = m.vae().decode(m.backend().fromArray(z, Shape.of(1, s[1], s[2], s[3])));
            float[] w = m.vocoder().forward(mel.reshape(1, mel.dim(2), mel.dim(3))).toFloatArray();
            return java.util.Arrays.copyOf(w, geo.originalWaveformLength());
        }
    }

    static double rmsDiff(float[] a, float[] b, int from, int to) {
        double e = 0;
        for (int i = from; i < to; i++) {
            e += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return Math.sqrt(e / Math.max(1, to - from));
    }

    @Test
    void strengthBelowOneStepReturnsTheRoundTrip() {
        // 4 steps x 0.2 = 0.8 -> int 0 steps run: the output is the source's VAE round trip
        GenerationRequest r = base().sourceAudio(clip(0.2, 440)).strength(0.2).build();
        float[] out = pipe.generate(r, ProgressListener.NONE).waveforms()[0];
        assertArrayEquals(roundTrip(r), out);
        // one step of four: no longer the round trip, not plain generation either
        GenerationRequest r1 = base().sourceAudio(clip(0.2, 440)).strength(0.25).build();
        float[] one = pipe.generate(r1, ProgressListener.NONE).waveforms()[0];
        float[] plain = pipe.generate(base().seconds(r.sourceAudio().seconds()).build(), ProgressListener.NONE)
                .waveforms()[0];
        assertTrue(rmsDiff(one, out, 0, out.length) > 0);
        assertTrue(rmsDiff(one, plain, 0, out.length) > 0);
    }

    @Test
    void strengthOneIsPlainGenerationFromTheSameNoise() {
        for (SamplerKind k : new SamplerKind[] {SamplerKind.DDIM, SamplerKind.EULER, SamplerKind.DPMPP_2M}) {
            WavReader.Audio src = clip(0.2, 440);
            float[] regen = pipe.generate(base().sampler(k).sourceAudio(src).strength(1.0).build(),
                    ProgressListener.NONE).waveforms()[0];
            float[] plain = pipe.generate(base().sampler(k).seconds(src.seconds()).build(), ProgressListener.NONE)
                    .waveforms()[0];
            assertArrayEquals(plain, regen, k.toString());
        }
    }

    @Test
    void strengthStartsTheScheduleWhereAddNoiseLeftIt() {
        // strength 0.5 of 4 steps: the first U-Net call is at the third timestep, on add_noise(x0, noise, 2)
        Map<String, float[]> trace = new HashMap<>();
        GenerationRequest r = base().sourceAudio(clip(0.2, 440)).strength(0.5).build();
        pipe.generate(r, ProgressListener.NONE, null, (name, v) -> trace.put(name, v.clone()));
        assertFalse(trace.containsKey("unet.0.sample") || trace.containsKey("unet.1.sample"));
        assertTrue(trace.containsKey("unet.2.sample") && trace.containsKey("unet.3.sample"));
    }

    @Test
    void inpaintingKeepsTheKnownRegion() {
        for (SamplerKind k : new SamplerKind[] {SamplerKind.DDIM, SamplerKind.EULER}) {
            GenerationRequest r = base().sampler(k).sourceAudio(clip(0.2, 440)).mask(0.05, 0.1).build();
            Map<String, float[]> trace = new HashMap<>();
            float[] out = pipe.generate(r, ProgressListener.NONE, null, (name, v) -> trace.put(name, v.clone()))
                    .waveforms()[0];
            // In latent space: after the last step, everything outside the mask is the source's latents.
            float[] x0 = trace.get("source_latents");
            float[] last = trace.get("step.3.prev_sample");
            int[] shape = latentShape(r);
            int h = shape[2];
            int w = shape[3];
            int samplesPerFrame = 2 * 4; // f x hop of the tiny model
            int from = (int) Math.floor(0.05 * 16000 / samplesPerFrame);
            int to = (int) Math.ceil(0.1 * 16000 / samplesPerFrame);
            int keptDiffer = 0;
            int maskedDiffer = 0;
            for (int c = 0; c < shape[1]; c++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int i = (c * h + y) * w + x;
                        if (y >= from && y < to) {
                            maskedDiffer += last[i] != x0[i] ? 1 : 0;
                        } else {
                            keptDiffer += last[i] != x0[i] ? 1 : 0;
                        }
                    }
                }
            }
            assertEquals(0, keptDiffer, k + ": kept latents changed");
            assertTrue(maskedDiffer > 0, k + ": masked latents not generated");
            // In the waveform: outside the mask, the round trip exactly; inside, something else.
            float[] rt = roundTrip(r);
            int a = from * samplesPerFrame;
            int b = to * samplesPerFrame;
            assertEquals(0, rmsDiff(out, rt, 0, a), k.toString());
            assertEquals(0, rmsDiff(out, rt, b, out.length), k.toString());
            assertTrue(rmsDiff(out, rt, a + 200, b - 200) > 1e-4, k + ": the masked region was not regenerated");
        }
    }

    @Test
    void continuationKeepsTheClipAndAddsSeconds() {
        WavReader.Audio src = clip(0.1, 440);
        GenerationRequest r = base().sourceAudio(src).mask(src.seconds(), src.seconds() + 0.1).build();
        float[] out = pipe.generate(r, ProgressListener.NONE).waveforms()[0];
        assertEquals((int) (0.2 * 16000), out.length, 2);
        float[] rt = roundTrip(r);
        int keep = (int) Math.floor(src.seconds() * 16000 / 8) * 8;
        assertEquals(0, rmsDiff(out, rt, 0, keep));
    }

    @Test
    void promptInterpolationEndsAreThePlainGenerations() {
        GenerationRequest r = base().seconds(0.1).build();
        List<GenerationResult> pts = pipe.interpolatePrompts("a flute melody", "a drum loop", 4, r,
                ProgressListener.NONE);
        assertEquals(4, pts.size());
        float[] a = pipe.generate(GenerationRequest.builder("a flute melody").steps(4).seed(11)
                .sampler(SamplerKind.DDIM).seconds(0.1).build(), ProgressListener.NONE).waveforms()[0];
        float[] b = pipe.generate(GenerationRequest.builder("a drum loop").steps(4).seed(11)
                .sampler(SamplerKind.DDIM).seconds(0.1).build(), ProgressListener.NONE).waveforms()[0];
        assertArrayEquals(a, pts.get(0).waveforms()[0]);
        assertArrayEquals(b, pts.get(3).waveforms()[0]);
        assertTrue(rmsDiff(pts.get(1).waveforms()[0], a, 0, a.length) > 0);
        assertTrue(rmsDiff(pts.get(1).waveforms()[0], b, 0, a.length) > 0);
    }

    @Test
    void slerpOfUnitVectorsStaysOnTheSphere() {
        float[] a = {1, 0, 0};
        float[] b = {0, 1, 0};
        float[] m = Slerp.normalised(a, b, 0.5);
        assertEquals(Math.sqrt(0.5), m[0], 1e-6);
        assertEquals(Math.sqrt(0.5), m[1], 1e-6);
        float[] q = Slerp.of(a, b, 1 / 3.0); // 30 degrees from a
        assertEquals(Math.cos(Math.PI / 6), q[0], 1e-6);
        assertEquals(Math.sin(Math.PI / 6), q[1], 1e-6);
    }

    /**
     * Clip interpolation's endpoints: DDIM inversion then DDIM denoising (guidance 1) reproduces each clip's
     * round trip up to the inversion's error. Measured on this tiny random model with 20 steps: relative RMS
     * error (vs the round trip's RMS) 0.10 and 0.12 for the two clips; the test allows 0.3, and checks that the middle point is
     * further from both ends than the ends are from their clips.
     */
    @Test
    void clipInterpolationEndsReproduceTheClips() {
        WavReader.Audio a = clip(0.1, 440);
        WavReader.Audio b = clip(0.1, 1200);
        GenerationRequest r = GenerationRequest.builder("a flute melody").steps(20).seed(3).guidanceScale(1.0)
                .seconds(0.1).build();
        List<GenerationResult> pts = pipe.interpolateClips(a, b, 3, r, ProgressListener.NONE);
        float[] ra = roundTrip(GenerationRequest.builder("x").sourceAudio(a).strength(0.01).seconds(0.1).build());
        float[] rb = roundTrip(GenerationRequest.builder("x").sourceAudio(b).strength(0.01).seconds(0.1).build());
        double ea = rmsDiff(pts.get(0).waveforms()[0], ra, 0, ra.length) / rmsDiff(ra, new float[ra.length], 0,
                ra.length);
        double eb = rmsDiff(pts.get(2).waveforms()[0], rb, 0, rb.length) / rmsDiff(rb, new float[rb.length], 0,
                rb.length);
        System.out.printf("clip interpolation endpoint error (relative RMS): %.4f, %.4f%n", ea, eb);
        assertTrue(ea < 0.3 && eb < 0.3, "inversion error " + ea + ", " + eb);
        float[] mid = pts.get(1).waveforms()[0];
        assertTrue(rmsDiff(mid, ra, 0, ra.length) > 0 && rmsDiff(mid, rb, 0, rb.length) > 0);
    }

    @Test
    void badRequestsGetClearErrors() {
        WavReader.Audio src = clip(0.2, 440);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> base().sourceAudio(src).strength(0).build())
                .getMessage().contains("strength"));
        assertThrows(IllegalArgumentException.class, () -> base().sourceAudio(src).strength(1.5).build());
        assertThrows(IllegalArgumentException.class, () -> base().sourceAudio(src).strength(Double.NaN).build());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> base().strength(0.5).build()).getMessage()
                .contains("source audio"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> base().mask(0, 1).build()).getMessage()
                .contains("source audio"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> base().sourceAudio(src).mask(0.1, 0.1).build())
                .getMessage().contains("start < end"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> base().sourceAudio(src).mask(0.5, 0.6).build())
                .getMessage().contains("after"));
        assertThrows(IllegalArgumentException.class, () -> base().sourceAudio(src).build());
        GenerationRequest whole = base().sourceAudio(src).mask(0, 0.2).build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(whole, ProgressListener.NONE))
                .getMessage().contains("whole"));
    }

    /** The VAE encoder path (mel front-end + encode) agrees on every backend with the scalar reference. */
    @Test
    void encoderPathAgreesAcrossBackends() throws IOException {
        WavReader.Audio src = clip(0.2, 440);
        float[] ref;
        try (TextToAudioPipeline scalar = Euterpe.loadTextToAudio(null, Euterpe.Options.defaults().withDevice("scalar"))) {
            ref = AudioIn.encodeLatents(scalar.model(), src, 64, null);
        }
        float[] cpu = AudioIn.encodeLatents(pipe.model(), src, 64, null);
        assertClose(ref, cpu, "cpu");
        var probe = Backends.probe("opencl");
        Assumptions.assumeTrue(probe.available(), () -> "skipped OpenCL: " + probe.reason());
        try (TextToAudioPipeline cl = Euterpe.loadTextToAudio(null, Euterpe.Options.defaults().withDevice("opencl"))) {
            assertClose(ref, AudioIn.encodeLatents(cl.model(), src, 64, null), "opencl");
        }
    }

    static void assertClose(float[] ref, float[] x, String what) {
        assertEquals(ref.length, x.length);
        double max = 0;
        for (int i = 0; i < ref.length; i++) {
            max = Math.max(max, Math.abs(ref[i] - x[i]));
        }
        System.out.printf("VAE encoder path, %s vs scalar: max abs error %.2e%n", what, max);
        assertTrue(max < 1e-4, what + ": max error " + max);
    }

    /** The same verbs on MusicLDM (tiny-musicldm, in-repo): strength 1 is plain generation, inpainting keeps. */
    @Test
    void musicLdmRunsTheVerbs() throws IOException {
        java.nio.file.Path dir = org.euterpe.tensor.TestData.conformanceCase("tiny-musicldm");
        try (TextToAudioPipeline music = Euterpe.loadTextToAudio(dir, Euterpe.Options.defaults().withDevice("cpu"))) {
            assertEquals(AudioModel.Family.MUSICLDM, music.model().family());
            WavReader.Audio src = clip(0.2, 440);
            float[] regen = music.generate(base().sourceAudio(src).strength(1.0).build(), ProgressListener.NONE)
                    .waveforms()[0];
            float[] plain = music.generate(base().seconds(src.seconds()).build(), ProgressListener.NONE)
                    .waveforms()[0];
            assertArrayEquals(plain, regen);
            Map<String, float[]> trace = new HashMap<>();
            music.generate(base().sourceAudio(src).mask(0.05, 0.1).build(), ProgressListener.NONE, null,
                    (name, v) -> trace.put(name, v.clone()));
            float[] x0 = trace.get("source_latents");
            float[] last = trace.get("step.3.prev_sample");
            assertEquals(x0[0], last[0]); // frame 0 is outside the mask
            float[] half = music.generate(base().sourceAudio(src).strength(0.5).build(), ProgressListener.NONE)
                    .waveforms()[0];
            assertEquals(plain.length, half.length);
        }
    }

    static int[] latentShape(GenerationRequest r) {
        AudioModel m = pipe.model();
        var voc = m.vocoder().config();
        return LatentGeometry.of(AudioIn.defaultSeconds(r), 1, m.unet().inChannels(), m.vae().vaeScaleFactor(),
                voc.modelInDim(), voc.upsampleRates(), voc.samplingRate(), m.unetSampleSize()).latentShape();
    }
}
