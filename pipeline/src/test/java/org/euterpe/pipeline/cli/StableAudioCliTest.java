package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.euterpe.converter.Converter;
import org.euterpe.kernels.Backends;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.stableaudio.StableAudioPipeline;
import org.euterpe.pipeline.stableaudio.StableAudioRequest;
import org.euterpe.pipeline.stableaudio.StableAudioResult;
import org.euterpe.pipeline.tokenizer.SentencePieceFormatException;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stable Audio through the command line and the loaders: the family is picked from model_index.json, the
 * WAV is stereo at the model's rate with the requested cut, a converted one-file model generates exactly
 * what the folder does, and broken models and timing options are refused naming the problem.
 */
class StableAudioCliTest {
    @TempDir
    Path tmp;
    private Path model;

    @BeforeEach
    void copyModel() throws IOException {
        model = tmp.resolve("sao");
        Path src = TestData.conformanceCase("tiny-stable-audio");
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.toList()) {
                Path rel = src.relativize(f);
                if (rel.toString().startsWith("golden")) {
                    continue;
                }
                Path to = model.resolve(rel.toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                    to.toFile().setWritable(true);
                }
            }
        }
    }

    private BadInputTest.Outcome generate(String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "a wooden hammer", "--model", model.toString(),
                "--steps", "3", "--seed", "5", "--device", "cpu", "-o", tmp.resolve("out.wav").toString()));
        args.addAll(Arrays.asList(extra));
        return BadInputTest.run(args.toArray(String[]::new));
    }

    @Test
    void writesAStereoWavWithTheRequestedCut() throws IOException {
        // tiny: 4 kHz, 16 frames x hop 8 = 128 samples = 0.032 s; ask for [0.004, 0.02)
        BadInputTest.Outcome o = generate("--seconds-start", "0.004", "--seconds", "0.02", "--spectrogram",
                tmp.resolve("out.png").toString());
        assertEquals(0, o.exit(), () -> String.join("\n", o.err()));
        byte[] wav = Files.readAllBytes(tmp.resolve("out.wav"));
        ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(2, b.getShort(22), "channels");
        assertEquals(4000, b.getInt(24), "rate");
        assertEquals(4000 * 2 * 2, b.getInt(28), "byte rate");
        assertEquals(4, b.getShort(32), "block align");
        int dataAt = new String(wav, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("data");
        assertEquals((80 - 16) * 2 * 2, b.getInt(dataAt + 4), "samples: int(0.02*4000) - int(0.004*4000) per channel");
        assertTrue(Files.size(tmp.resolve("out.png")) > 0);
    }

    @Test
    void badTimingIsRefusedNamingIt() {
        assertRefused(generate("--seconds-start", "0.02", "--seconds", "0.01"), "must be after seconds start");
        assertRefused(generate("--seconds", "100"), "beyond");
        assertRefused(generate("--seconds-start", "0", "--seconds", "0.05"), "longer than the model's maximum");
    }

    private void assertRefused(BadInputTest.Outcome o, String words) {
        assertNotEquals(0, o.exit());
        assertTrue(String.join("\n", o.err()).contains(words), () -> String.join("\n", o.err()));
        assertTrue(!Files.exists(tmp.resolve("out.wav")), "nothing written");
    }

    @Test
    void convertedFileGeneratesWhatTheFolderDoes() throws Exception {
        Path one = tmp.resolve("sao.safetensors");
        Converter.convert(model, one, DType.F32);
        StableAudioRequest request = new StableAudioRequest(List.of("rain on a tin roof"), List.of("muffled"), 4.0, 3,
                0.0, null, 2, 11, null, null);
        StableAudioResult a;
        StableAudioResult b;
        try (StableAudioPipeline folder = StableAudioPipeline.load(model, Backends.cpu())) {
            a = folder.generate(request, ProgressListener.NONE);
        }
        assertTrue(StableAudioPipeline.isStableAudio(one));
        try (StableAudioPipeline file = StableAudioPipeline.load(one, Backends.cpu())) {
            b = file.generate(request, ProgressListener.NONE);
        }
        assertEquals(2, a.audio().length);
        for (int w = 0; w < 2; w++) {
            for (int c = 0; c < 2; c++) {
                assertArrayEquals(a.audio()[w][c], b.audio()[w][c], "waveform " + w + " channel " + c);
            }
        }
        // seeded: the same request gives the same audio, another seed another
        try (StableAudioPipeline file = StableAudioPipeline.load(one, Backends.cpu())) {
            assertArrayEquals(a.audio()[0][0], file.generate(request, ProgressListener.NONE).audio()[0][0]);
            StableAudioRequest other = new StableAudioRequest(List.of("rain on a tin roof"), List.of("muffled"), 4.0, 3,
                    0.0, null, 2, 12, null, null);
            assertTrue(!Arrays.equals(a.audio()[0][0], file.generate(other, ProgressListener.NONE).audio()[0][0]));
        }
    }

    @Test
    void lowPrecisionConversionsLoadAndStayClose() throws Exception {
        StableAudioRequest request = new StableAudioRequest(List.of("rain"), null, 4.0, 3, 0.0, null, 1, 3, null, null);
        float[] ref;
        try (StableAudioPipeline folder = StableAudioPipeline.load(model, Backends.cpu())) {
            ref = folder.generate(request, ProgressListener.NONE).audio()[0][0];
        }
        for (DType dt : List.of(DType.F16, DType.BF16, DType.I8)) {
            Path one = tmp.resolve("sao-" + dt + ".safetensors");
            Converter.convert(model, one, dt);
            try (StableAudioPipeline file = StableAudioPipeline.load(one, Backends.cpu())) {
                float[] got = file.generate(request, ProgressListener.NONE).audio()[0][0];
                double signal = 0;
                double noise = 0;
                for (int i = 0; i < ref.length; i++) {
                    assertTrue(Float.isFinite(got[i]), dt + ": sample " + i);
                    signal += (double) ref[i] * ref[i];
                    noise += ((double) got[i] - ref[i]) * ((double) got[i] - ref[i]);
                }
                double snr = 10 * Math.log10(signal / Math.max(noise, 1e-30));
                System.out.printf(java.util.Locale.ROOT, "Stable Audio tiny, %s weights: audio SNR %.1f dB vs f32%n", dt,
                        snr);
                assertTrue(snr > (dt == DType.I8 ? 20 : dt == DType.BF16 ? 30 : 40), dt + ": SNR " + snr + " dB");
            }
        }
    }

    @Test
    void brokenModelsNameTheProblem() throws IOException {
        Path transformerConfig = model.resolve("transformer/config.json");
        String original = Files.readString(transformerConfig);
        Files.writeString(transformerConfig, original.replace("{", "{\n  \"qk_norm\": true,"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> StableAudioPipeline.load(model,
                Backends.cpu()));
        assertTrue(e.getMessage().contains("qk_norm"), e.getMessage());
        Files.writeString(transformerConfig, original);

        Files.write(model.resolve("tokenizer/spiece.model"), new byte[] {0x0a, (byte) 0xff, 0x01});
        SentencePieceFormatException t = assertThrows(SentencePieceFormatException.class,
                () -> StableAudioPipeline.load(model, Backends.cpu()));
        assertTrue(t.getMessage().contains("spiece.model"), t.getMessage());

        try (Stream<Path> s = Files.walk(model.resolve("vae"))) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        e = assertThrows(ModelLoadException.class, () -> StableAudioPipeline.load(model, Backends.cpu()));
        assertTrue(e.getMessage().contains("\"vae\" is missing"), e.getMessage());
    }

    @Test
    void sharedApiLoadsAndGenerates() throws Exception {
        try (org.euterpe.pipeline.AudioPipeline p = org.euterpe.pipeline.Euterpe.load(model,
                org.euterpe.pipeline.Euterpe.Options.defaults().withDevice("cpu"))) {
            assertTrue(p instanceof StableAudioPipeline);
            assertEquals(2, p.channels());
            assertEquals(4000, p.sampleRate());
            org.euterpe.pipeline.GenerationResult r = p.generate(org.euterpe.pipeline.GenerationRequest.builder("rain")
                    .steps(2).seconds(0.016).seed(4).waveformsPerPrompt(2).build(), ProgressListener.NONE);
            assertEquals(2, r.waveforms().length);
            assertEquals(2, r.channels());
            assertEquals(64, r.frames(0), "int(0.016 * 4000) frames");
            assertEquals("2", r.settings().get("steps"));
            assertThrows(IllegalArgumentException.class, () -> p.generate(org.euterpe.pipeline.GenerationRequest
                    .builder("rain").sampler(org.euterpe.pipeline.scheduler.SamplerKind.DDIM).build(),
                    ProgressListener.NONE));
            // audio to audio: a mono 8 kHz clip, resampled and duplicated to stereo; strength 0.01 keeps it near
            float[] tone = new float[256];
            for (int i = 0; i < tone.length; i++) {
                tone[i] = (float) (0.5 * Math.sin(i * 0.2));
            }
            org.euterpe.pipeline.GenerationResult a = p.generate(org.euterpe.pipeline.GenerationRequest.builder("rain")
                    .steps(3).seed(4).sourceAudio(new org.euterpe.pipeline.audio.WavReader.Audio(new float[][] {tone},
                            8000, 0)).strength(0.01).build(), ProgressListener.NONE);
            assertEquals("5.0", a.settings().get("init_noise_level"));
            for (float v : a.waveforms()[0]) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    /** An 8 kHz mono tone of {@code n} samples, as a 16-bit WAV. */
    private Path monoTone(int n) throws IOException {
        float[] tone = new float[n];
        for (int i = 0; i < n; i++) {
            tone[i] = (float) (0.5 * Math.sin(i * 0.3));
        }
        Path wav = tmp.resolve("tone.wav");
        org.euterpe.pipeline.audio.WavWriter.write(wav, tone, 8000, org.euterpe.pipeline.audio.WavWriter.Format.FLOAT32,
                java.util.Map.of());
        return wav;
    }

    @Test
    void initAudioIsResampledUpMixedAndGivesWhatTheApiGives() throws Exception {
        Path wav = monoTone(300); // 8 kHz mono; the model is 4 kHz stereo, 128 samples (the rest is cropped)
        BadInputTest.Outcome o = generate("--init-audio", wav.toString(), "--strength", "0.05", "--float");
        assertEquals(0, o.exit(), () -> String.join("\n", o.err()));
        String err = String.join("\n", o.err());
        assertTrue(err.contains("resampled from 8000 Hz to 4000 Hz"), err);
        assertTrue(err.contains("up-mixed from 1 to 2 channels"), err);
        float[][] got = org.euterpe.pipeline.audio.WavReader.read(tmp.resolve("out.wav")).channels();

        // the same run through the Java API, the clip resampled and duplicated here: sigma = 0.05 * sigma_max
        float[] mono = org.euterpe.pipeline.audio.WavReader.read(wav).channels()[0];
        float[] at4k = org.euterpe.pipeline.audio.Resampler.resample(mono, 8000, 4000);
        float[][] want;
        float[][] diffusers;
        try (StableAudioPipeline pipe = StableAudioPipeline.load(model, Backends.cpu())) {
            double sigma = 0.05 * pipe.scheduler().sigmaMax();
            want = pipe.generate(new StableAudioRequest(List.of("a wooden hammer"), null, 7.0, 3, 0.0, null, 1, 5,
                    new float[][][] {{at4k, at4k.clone()}}, sigma), ProgressListener.NONE).audio()[0];
            diffusers = pipe.generate(new StableAudioRequest(List.of("a wooden hammer"), null, 7.0, 3, 0.0, null, 1, 5,
                    new float[][][] {{at4k, at4k.clone()}}, null), ProgressListener.NONE).audio()[0];
        }
        for (int c = 0; c < 2; c++) {
            assertArrayEquals(want[c], got[c], "channel " + c);
        }
        // without --strength: diffusers' behaviour (the encoded audio added to noise at sigma_max)
        Files.delete(tmp.resolve("out.wav"));
        BadInputTest.Outcome d = generate("--init-audio", wav.toString(), "--float");
        assertEquals(0, d.exit(), () -> String.join("\n", d.err()));
        assertArrayEquals(diffusers[1], org.euterpe.pipeline.audio.WavReader.read(tmp.resolve("out.wav")).channels()[1]);
        assertTrue(!Arrays.equals(diffusers[1], want[1]), "the noise level matters");
        // --init-noise-level sigma is --strength sigma / sigma_max
        Files.delete(tmp.resolve("out.wav"));
        BadInputTest.Outcome n = generate("--init-audio", wav.toString(), "--init-noise-level", "25", "--float");
        assertEquals(0, n.exit(), () -> String.join("\n", n.err()));
        assertArrayEquals(want[0], org.euterpe.pipeline.audio.WavReader.read(tmp.resolve("out.wav")).channels()[0]);
    }

    @Test
    void badInitAudioIsRefusedNamingIt() throws IOException {
        assertRefused(generate("--init-audio", tmp.resolve("missing.wav").toString()), "missing.wav");
        Path junk = tmp.resolve("junk.wav");
        Files.write(junk, new byte[] {'R', 'I', 'F', 'F', 1, 2, 3});
        assertRefused(generate("--init-audio", junk.toString()), "junk.wav");
        Path wav = monoTone(64);
        assertRefused(generate("--strength", "0.5"), "--strength goes with --init-audio");
        assertRefused(generate("--init-noise-level", "3"), "--init-noise-level goes with --init-audio");
        assertRefused(generate("--init-audio", wav.toString(), "--strength", "1.5"), "--strength must be in (0, 1]");
        assertRefused(generate("--init-audio", wav.toString(), "--strength", "0"), "--strength must be in (0, 1]");
        assertRefused(generate("--init-audio", wav.toString(), "--init-noise-level", "-1"), "positive");
        assertRefused(generate("--init-audio", wav.toString(), "--init-noise-level", "1e6"), "sigma_max");
        assertRefused(generate("--init-audio", wav.toString(), "--strength", "0.5", "--init-noise-level", "3"),
                "not both");
    }

    @Test
    void convertTakesAStableAudioToolsCheckpointWithItsT5() throws Exception {
        Path sat = org.euterpe.pipeline.conformance.StableAudioToolsConversionTest.writeStableAudioTools(model,
                tmp.resolve("sat"));
        Path one = tmp.resolve("sat.safetensors");
        BadInputTest.Outcome missing = BadInputTest.run("convert", sat.toString(), one.toString());
        assertNotEquals(0, missing.exit());
        assertTrue(String.join("\n", missing.err()).contains("--text-encoder"), () -> String.join("\n", missing.err()));
        assertTrue(!Files.exists(one));
        BadInputTest.Outcome o = BadInputTest.run("convert", sat.toString(), one.toString(), "--text-encoder",
                model.toString(), "--dtype", "f16");
        assertEquals(0, o.exit(), () -> String.join("\n", o.err()));
        assertTrue(String.join("\n", o.out()).contains("stable-audio-tools checkpoint"), () -> String.join("\n", o.out()));
        try (StableAudioPipeline p = StableAudioPipeline.load(one, Backends.cpu())) {
            assertEquals(java.util.Set.of(DType.F16, DType.F32), p.weightDtypes().get("transformer"));
        }
        BadInputTest.Outcome stray = BadInputTest.run("convert", model.toString(), tmp.resolve("x.safetensors")
                .toString(), "--text-encoder", model.toString());
        assertNotEquals(0, stray.exit());
        assertTrue(String.join("\n", stray.err()).contains("--text-encoder goes with"));
    }

    @Test
    void requestChecks() {
        assertThrows(IllegalArgumentException.class, () -> new StableAudioRequest(List.of("x"), null, 7, 10, 5.0, 5.0, 1,
                0, null, null));
        assertThrows(IllegalArgumentException.class, () -> new StableAudioRequest(List.of("x"), List.of("a", "b"), 7,
                10, 0.0, null, 1, 0, null, null));
        assertThrows(IllegalArgumentException.class, () -> new StableAudioRequest(List.of("x"), null, 7, 0, 0.0, null,
                1, 0, null, null));
    }
}
