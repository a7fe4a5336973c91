package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The options that {@code euterpe generate} shares across families ({@link GenerateOptions}): the same bad value
 * gives the same one error line and exit code 2 whether the model is AudioLDM, Dance Diffusion or Stable Audio,
 * and writes nothing. A family that parsed or checked a shared option in its own way fails here.
 */
class GenerateOptionsTest {
    @TempDir
    Path tmp;
    private Path outDir;
    private Path wav;

    /** The command line of each family up to its options: a prompt where the family takes one. */
    private static final Map<String, List<String>> FAMILIES = new LinkedHashMap<>();

    static {
        FAMILIES.put("ldm", List.of("generate", "a bell", "--model", model("tiny-audioldm")));
        FAMILIES.put("dance", List.of("generate", "--model", model("tiny-dance-diffusion")));
        FAMILIES.put("stable-audio", List.of("generate", "a bell", "--model", model("tiny-stable-audio")));
    }

    private static String model(String name) {
        return TestData.conformanceCase(name).toString();
    }

    @BeforeEach
    void setUp() throws IOException {
        outDir = Files.createDirectory(tmp.resolve("out"));
        wav = tmp.resolve("in.wav");
        WavWriter.write(wav, new float[800], 8000, WavWriter.Format.PCM16, Map.of());
    }

    /** The one error line of {@code family} run with {@code options} (exit 2, nothing written). */
    private String refusal(String family, String... options) throws IOException {
        List<String> args = new ArrayList<>(FAMILIES.get(family));
        args.addAll(List.of("--device", "cpu", "-o", outDir.resolve("out.wav").toString()));
        args.addAll(Arrays.asList(options));
        BadInputTest.Outcome o = BadInputTest.run(args.toArray(String[]::new));
        String what = family + " " + String.join(" ", options);
        assertEquals(2, o.exit(), () -> what + ": " + o.err());
        List<String> errors = o.errors().stream().filter(l -> l.startsWith("euterpe ")).toList();
        assertEquals(1, errors.size(), () -> what + ": " + o.err());
        try (Stream<Path> s = Files.list(outDir)) {
            List<Path> left = s.filter(p -> !p.getFileName().toString().equals("exists.wav")).toList();
            assertEquals(List.of(), left, what + ": something was written");
        }
        return errors.getFirst();
    }

    /** Refused the same way, by one line naming {@code expected}, in each of {@code families}. */
    private void sameEverywhere(String expected, List<String> families, String... options) throws IOException {
        String first = null;
        for (String f : families) {
            String line = refusal(f, options);
            assertTrue(line.startsWith("euterpe generate: ") && line.contains(expected), f + ": " + line);
            if (first == null) {
                first = line;
            } else {
                assertEquals(first, line, f + " words the refusal of " + String.join(" ", options) + " differently");
            }
        }
    }

    private void sameEverywhere(String expected, String... options) throws IOException {
        sameEverywhere(expected, List.copyOf(FAMILIES.keySet()), options);
    }

    @Test
    void stepsCountSecondsSeedAndDeviceAreCheckedAlikeInEveryFamily() throws IOException {
        sameEverywhere("--steps must be between 1 and 1000, got 0", "--steps", "0");
        sameEverywhere("--steps must be between 1 and 1000, got 1001", "--steps", "1001");
        sameEverywhere("--steps must be an integer, got \"many\"", "--steps", "many");
        sameEverywhere("--count must be between 1 and 64, got 0", "--count", "0");
        sameEverywhere("--count must be between 1 and 64, got 65", "--count", "65");
        sameEverywhere("--seconds must be positive, got 0", "--seconds", "0");
        sameEverywhere("--seconds must be positive, got -2", "--seconds", "-2");
        sameEverywhere("--seconds must be positive, got Infinity", "--seconds", "Infinity");
        sameEverywhere("--seconds must be positive, got NaN", "--seconds", "NaN");
        sameEverywhere("--seed must be an integer", "--seed", "soon");
        sameEverywhere("gpu7", "--device", "gpu7");
        sameEverywhere("needs a value", "--steps");
        sameEverywhere("unknown option --bogus", "--bogus", "1");
    }

    @Test
    void outputsArePlannedAlikeInEveryFamily() throws IOException {
        Files.writeString(outDir.resolve("exists.wav"), "keep me");
        sameEverywhere("exists; pass --force to replace it", "--output", outDir.resolve("exists.wav").toString());
        sameEverywhere("writes one WAV to standard output, but this run makes 2", "-o", "-", "--count", "2");
        assertEquals("keep me", Files.readString(outDir.resolve("exists.wav")));
    }

    @Test
    void promptGuidanceAndInitAudioAreCheckedAlikeWhereTheyApply() throws IOException {
        List<String> prompted = List.of("ldm", "stable-audio");
        sameEverywhere("--guidance must be a finite number, got NaN", prompted, "--guidance", "NaN");
        sameEverywhere("give exactly one prompt in quotes (got 2)", prompted, "another prompt");
        sameEverywhere("--strength goes with --init-audio", prompted, "--strength", "0.5");
        sameEverywhere("--strength must be in (0, 1], got 1.5", prompted, "--init-audio", wav.toString(),
                "--strength", "1.5");
        sameEverywhere("no such file", prompted, "--init-audio", tmp.resolve("missing.wav").toString(),
                "--strength", "0.5");
        sameEverywhere("--noise must be euterpe or torch, got pink", List.of("ldm", "dance"), "--noise", "pink");
    }

    @Test
    void everyFamilyWritesOneWavToStandardOutput() throws IOException {
        Map<String, List<String>> runs = Map.of("ldm", List.of("--seconds", "0.064", "--steps", "2"), "dance",
                List.of("--seconds", "0.0301", "--steps", "2"), "stable-audio", List.of("--seconds", "0.016", "--steps",
                        "2"));
        Map<String, Integer> channels = Map.of("ldm", 1, "dance", 2, "stable-audio", 2);
        for (String family : FAMILIES.keySet()) {
            List<String> args = new ArrayList<>(FAMILIES.get(family));
            args.addAll(List.of("--device", "cpu", "--seed", "4", "-o", "-"));
            args.addAll(runs.get(family));
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int exit = new Main(new java.io.PrintStream(out, true), new java.io.PrintStream(err, true))
                    .run(args.toArray(String[]::new));
            String said = err.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, exit, family + ": " + said);
            assertTrue(said.contains("wrote standard output ("), family + ": " + said);
            Path wavOut = tmp.resolve(family + ".wav");
            Files.write(wavOut, out.toByteArray());
            org.euterpe.pipeline.audio.WavReader.Audio a = org.euterpe.pipeline.audio.WavReader.read(wavOut);
            assertEquals(channels.get(family), a.channelCount(), family);
            assertTrue(a.frames() > 0, family);
            try (Stream<Path> left = Files.list(outDir)) {
                assertEquals(List.of(), left.toList(), family + ": a file was written");
            }
        }
    }

    @Test
    void anOptionOfAnotherFamilyIsRefusedAsNotApplying() throws IOException {
        assertEquals("euterpe generate: --noise does not apply to Stable Audio; see --help",
                refusal("stable-audio", "--noise", "torch"));
        // (--keep-weights applies to Stable Audio too: its generate releases each stage's weights by default)
        assertEquals("euterpe generate: --karras does not apply to Stable Audio; see --help",
                refusal("stable-audio", "--karras"));
        assertEquals("euterpe generate: --seconds-start does not apply to AudioLDM/MusicLDM; see --help",
                refusal("ldm", "--seconds-start", "1"));
        assertTrue(refusal("dance", "--karras").startsWith("euterpe generate: --karras does not apply to Dance"));
        assertTrue(refusal("dance", "--eta=0.5").contains("--eta does not apply to Dance"));
    }

    @Test
    void theLastModelPicksTheFamilyAsItIsTheOneLoaded() throws IOException {
        // --model ldm --model dance: the family is Dance Diffusion's, as the model loaded is the last one given
        assertTrue(refusal("ldm", "--model", model("tiny-dance-diffusion"), "--guidance", "3")
                .contains("--guidance does not apply to Dance"));
    }

    @Test
    void aHubRepositoryPicksItsFamilyAsAPathDoes() throws IOException {
        Assumptions.assumeTrue(Stream.of("HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME").allMatch(v -> System.getenv(v)
                == null), "the hub cache is set by the environment here; this test places its own under user.home");
        Path home = tmp.resolve("home");
        Path repo = home.resolve(".cache/huggingface/hub/models--test--dance");
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        Path src = Path.of(model("tiny-dance-diffusion"));
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.toList()) {
                String rel = src.relativize(f).toString();
                if (!rel.startsWith("golden")) {
                    Path to = repo.resolve("snapshots").resolve(commit).resolve(rel);
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(f, to);
                    }
                }
            }
        }
        String before = System.getProperty("user.home");
        System.setProperty("user.home", home.toString());
        try {
            // the cached repository is Dance Diffusion's, so generate is Dance Diffusion's
            assertTrue(refusal("ldm", "--model", "test/dance", "--guidance", "3")
                    .contains("--guidance does not apply to Dance"));
            // the shared checks come before a repository that is not cached would be pulled
            assertEquals("euterpe generate: --steps must be between 1 and 1000, got 0",
                    refusal("ldm", "--model", "test/not-cached", "--steps", "0"));
        } finally {
            System.setProperty("user.home", before);
        }
    }

    @Test
    void interpolateChecksTheDeviceAsGenerateDoes() throws IOException {
        String generate = refusal("ldm", "--device", "gpu7");
        BadInputTest.Outcome o = BadInputTest.run("interpolate", "--from", "rain", "--to", "wind", "--model",
                model("tiny-audioldm"), "--device", "gpu7", "-o", outDir.resolve("i.wav").toString());
        assertEquals(2, o.exit(), o.err()::toString);
        assertEquals(generate.replace("euterpe generate: ", "euterpe interpolate: "), o.errors().getFirst());
    }

    @Test
    void regenerateWithAnotherFamilysModelIsAUsageError() throws IOException {
        BadInputTest.Outcome o = BadInputTest.run("regenerate", "--model", model("tiny-audioldm"), "--init-audio",
                wav.toString(), "--device", "cpu", "-o", outDir.resolve("r.wav").toString());
        assertEquals(2, o.exit(), o.err()::toString);
        assertTrue(o.errors().getFirst().contains("is not a Dance Diffusion model"), o.err()::toString);
    }

    @Test
    void danceTakesVerboseAndSpectrogramAsTheOtherFamiliesDo() throws IOException {
        BadInputTest.Outcome o = BadInputTest.run("generate", "--model", model("tiny-dance-diffusion"), "--seconds",
                "0.0301", "--steps", "2", "--seed", "3", "--device", "cpu", "--verbose", "--count", "2", "-o",
                outDir.resolve("d.wav").toString(), "--spectrogram", outDir.resolve("d.png").toString());
        assertEquals(0, o.exit(), o.err()::toString);
        assertTrue(o.err().stream().anyMatch(l -> l.startsWith("settings ") && l.contains("seed=3")
                && l.contains("steps=2")), o.err()::toString);
        for (String png : List.of("d-1.png", "d-2.png")) {
            byte[] b = Files.readAllBytes(outDir.resolve(png));
            assertTrue(b.length > 8 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png + " is not a PNG");
            assertTrue(o.out().contains("wrote " + outDir.resolve(png)), o.out()::toString);
        }
        assertTrue(o.out().stream().anyMatch(l -> l.startsWith("wrote " + outDir.resolve("d-1.wav") + " (")),
                o.out()::toString);
    }
}
