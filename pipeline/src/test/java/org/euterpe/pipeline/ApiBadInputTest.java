package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.audio.AtomicFiles;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.pipeline.scheduler.SamplerKind;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input catalogue of the Java API (the CLI's is {@code cli.BadInputTest} and
 * {@code cli.HardeningTest}): each bad value is refused when it is given, by an exception of a
 * documented type whose message names the problem, and nothing is written.
 */
class ApiBadInputTest {
    @TempDir
    Path tmp;

    private static void refused(Class<? extends Exception> type, Supplier<?> call, String... words) {
        Exception e = assertThrows(type, call::get);
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), () -> "\"" + e.getMessage() + "\" does not name " + w);
        }
    }

    @Test
    void requestValuesAreCheckedWhenBuilt() {
        record Case(String what, java.util.function.UnaryOperator<GenerationRequest.Builder> edit, String word) {
        }
        for (Case c : List.of(
                new Case("NaN guidance", b -> b.guidanceScale(Double.NaN), "guidance"),
                new Case("infinite guidance", b -> b.guidanceScale(Double.POSITIVE_INFINITY), "guidance"),
                new Case("0 steps", b -> b.steps(0), "steps"),
                new Case("1001 steps", b -> b.steps(1001), "steps"),
                new Case("0 seconds", b -> b.seconds(0), "seconds"),
                new Case("NaN seconds", b -> b.seconds(Double.NaN), "seconds"),
                new Case("4000 seconds", b -> b.seconds(4000), "seconds"),
                new Case("0 waveforms", b -> b.waveformsPerPrompt(0), "waveforms"),
                new Case("65 waveforms", b -> b.waveformsPerPrompt(65), "waveforms"),
                new Case("negative eta", b -> b.eta(-0.1f), "eta"),
                new Case("eta above 1", b -> b.eta(1.5f), "eta"),
                new Case("NaN eta", b -> b.eta(Float.NaN), "eta"),
                new Case("a null prompt", b -> b.prompt(null), "null"))) {
            Exception e = assertThrows(IllegalArgumentException.class,
                    () -> c.edit().apply(GenerationRequest.builder("x")).build(), c.what());
            assertTrue(e.getMessage().contains(c.word()), c.what() + ": " + e.getMessage());
        }
    }

    @Test
    void devicesAreCheckedAtLoad() {
        for (String d : List.of("bogus", "cuda:-1", "opencl:abc", "")) {
            refused(IllegalArgumentException.class, () -> load(Euterpe.Options.defaults().withDevice(d)),
                    "unknown device");
        }
        Assumptions.assumeFalse(Backends.probe("cuda").available(), "SKIPPED: CUDA opens here");
        refused(Backends.DeviceUnavailableException.class, () -> load(Euterpe.Options.defaults().withDevice("cuda")),
                "cuda unavailable");
        try (AudioPipeline p = Euterpe.load(null, Euterpe.Options.defaults().withDevice("cuda").withFallback(true))) {
            assertEquals(16000, p.sampleRate());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static Object load(Euterpe.Options o) {
        try (AudioPipeline p = Euterpe.load(null, o)) {
            return p;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aMissingModelIsNamed() {
        Path missing = tmp.resolve("no-such-model");
        IOException e = assertThrows(IOException.class, () -> Euterpe.load(missing, Euterpe.Options.defaults()));
        assertTrue(e.getMessage().contains("no-such-model"), e.getMessage());
    }

    @Test
    void optionsTheSamplerIgnoresAreRefused() throws IOException {
        try (TextToAudioPipeline p = Euterpe.loadTextToAudio(null, Euterpe.Options.defaults().withDevice("cpu"))) {
            refused(IllegalArgumentException.class, () -> p.generate(GenerationRequest.builder("x")
                    .sampler(SamplerKind.EULER).eta(0.5f).build(), ProgressListener.NONE), "eta", "euler");
            refused(IllegalArgumentException.class, () -> p.generate(GenerationRequest.builder("x").karras(true)
                    .build(), ProgressListener.NONE), "Karras", "ddim");
        }
    }

    @Test
    void outputsMustBeRegularFiles() throws IOException {
        Path link = Files.createSymbolicLink(tmp.resolve("l.wav"), Files.writeString(tmp.resolve("t"), "keep"));
        IOException e = assertThrows(IOException.class,
                () -> WavWriter.write(link, new float[10], 16000, WavWriter.Format.PCM16, Map.of()));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertEquals("keep", Files.readString(tmp.resolve("t")));
        if (Files.exists(Path.of("/dev/null"))) {
            e = assertThrows(IOException.class, () -> AtomicFiles.write(Path.of("/dev/null"), o -> o.write(1)));
            assertTrue(e.getMessage().contains("character device"), e.getMessage());
        }
        refused(IllegalArgumentException.class, () -> WavWriter.body(new float[] {Float.NaN}, 16000,
                WavWriter.Format.PCM16, Map.of()), "NaN");
        refused(IllegalArgumentException.class, () -> WavWriter.body(new float[4], 0, WavWriter.Format.PCM16,
                Map.of()), "sample rate");
    }
}
