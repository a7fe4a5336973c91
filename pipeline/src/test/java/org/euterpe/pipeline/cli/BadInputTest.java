package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.euterpe.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input catalogue, through {@code euterpe generate}: each broken model, value or output gives a
 * non-zero exit and one error line naming the problem, and leaves no output file (nor a temporary one)
 * behind. The broken models are copies of the tiny model in a temporary folder.
 */
class BadInputTest {
    @TempDir
    Path tmp;
    private Path model;
    private Path outDir;

    record Outcome(int exit, List<String> out, List<String> err) {
        /** The error lines, without the informational notes. */
        List<String> errors() {
            return err.stream().filter(l -> !l.startsWith("note:")).toList();
        }
    }

    @BeforeEach
    void copyModel() throws IOException {
        model = copyTinyModel(tmp.resolve("model"));
        outDir = Files.createDirectory(tmp.resolve("out"));
    }

    /** A copy of the tiny AudioLDM model (without its golden records) at {@code model}, to break at will. */
    static Path copyTinyModel(Path model) throws IOException {
        Path src = TestData.conformanceCase("tiny-audioldm");
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
                }
            }
        }
        return model;
    }

    private Outcome generate(String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "a quiet bell", "--seconds", "0.064", "--steps", "2",
                "--seed", "1", "--device", "cpu", "-o", outDir.resolve("out.wav").toString()));
        args.addAll(Arrays.asList(extra));
        return run(args.toArray(String[]::new));
    }

    static Outcome run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
        return new Outcome(exit, lines(out), lines(err));
    }

    private static List<String> lines(ByteArrayOutputStream b) {
        String s = b.toString(StandardCharsets.UTF_8);
        return s.isEmpty() ? List.of() : List.of(s.split("\n"));
    }

    /** Fails unless the run failed with one error line containing every {@code words} and wrote nothing. */
    private void assertRefused(Outcome o, String... words) throws IOException {
        assertNotEquals(0, o.exit(), () -> "exit code 0; stderr " + o.err());
        assertEquals(1, o.errors().size(), () -> "expected one error line, got " + o.errors());
        String line = o.errors().getFirst();
        assertTrue(line.startsWith("euterpe generate: "), line);
        for (String w : words) {
            assertTrue(line.contains(w), () -> "\"" + line + "\" does not name " + w);
        }
        try (Stream<Path> s = Files.list(outDir)) {
            assertEquals(List.of(), s.toList(), "something was written");
        }
    }

    /** Rewrites a safetensors file of the model copy, tensor by tensor through {@code edit}. */
    private void rewrite(String file, UnaryOperator<Map<String, Shape>> edit, String renameFrom, String renameTo)
            throws IOException {
        Path p = model.resolve(file);
        Path edited = tmp.resolve("edited.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            Map<String, Shape> shapes = new TreeMap<>();
            for (String n : f.names()) {
                shapes.put(n, f.entry(n).shape());
            }
            Map<String, Shape> kept = edit.apply(shapes);
            SafetensorsWriter w = new SafetensorsWriter();
            for (Map.Entry<String, Shape> e : kept.entrySet()) {
                String from = e.getKey().equals(renameTo) ? renameFrom : e.getKey();
                float[] values = f.floats(from);
                w.add(e.getKey(), DType.F32, e.getValue(), Arrays.copyOf(values, (int) e.getValue().numel()));
            }
            w.write(edited);
        }
        Files.move(edited, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static final String VOCODER = "vocoder/model.safetensors";
    private static final String CONV_PRE = "conv_pre.weight";

    @Test
    void theIntactCopyGenerates() {
        Outcome o = generate();
        assertEquals(0, o.exit(), () -> o.err().toString());
        assertTrue(Files.isRegularFile(outDir.resolve("out.wav")));
    }

    @Test
    void missingTensor() throws IOException {
        rewrite(VOCODER, m -> {
            m.remove(CONV_PRE);
            return m;
        }, null, null);
        assertRefused(generate("--model", model.toString()), "missing weight", CONV_PRE);
    }

    @Test
    void wronglyNamedTensor() throws IOException {
        rewrite(VOCODER, m -> {
            m.put("conv_pre.wieght", m.remove(CONV_PRE));
            return m;
        }, CONV_PRE, "conv_pre.wieght");
        assertRefused(generate("--model", model.toString()), CONV_PRE);
    }

    @Test
    void wrongShape() throws IOException {
        rewrite(VOCODER, m -> {
            Shape s = m.get(CONV_PRE);
            int[] d = s.dims();
            d[0] = d[0] - 1;
            m.put(CONV_PRE, Shape.of(d));
            return m;
        }, null, null);
        assertRefused(generate("--model", model.toString()), CONV_PRE, "shape");
    }

    @Test
    void unknownConfigKey() throws IOException {
        Path cfg = model.resolve("vocoder/config.json");
        String json = Files.readString(cfg).replaceFirst("\\{", "{\"bogus_option\": 3,");
        Files.writeString(cfg, json);
        assertRefused(generate("--model", model.toString()), "bogus_option");
    }

    @Test
    void truncatedWeights() throws IOException {
        Path unet = model.resolve("unet/diffusion_pytorch_model.safetensors");
        byte[] b = Files.readAllBytes(unet);
        Files.write(unet, Arrays.copyOf(b, b.length / 2));
        assertRefused(generate("--model", model.toString()), "diffusion_pytorch_model.safetensors");
    }

    @Test
    void folderInsteadOfWeightsFile() throws IOException {
        Path vae = model.resolve("vae/diffusion_pytorch_model.safetensors");
        Files.delete(vae);
        Files.createDirectory(vae);
        assertRefused(generate("--model", model.toString()), "diffusion_pytorch_model.safetensors");
    }

    @Test
    void missingModel() throws IOException {
        assertRefused(generate("--model", tmp.resolve("no-such-model").toString()), "no-such-model");
    }

    @Test
    void veryLongPromptIsTruncatedWithANote() throws IOException {
        String prompt = "rain ".repeat(20_000); // 100,000 characters
        Outcome o = run("generate", prompt, "--seconds", "0.064", "--steps", "1", "--seed", "1", "--device", "cpu",
                "--model", model.toString(), "-o", outDir.resolve("long.wav").toString());
        assertEquals(0, o.exit(), () -> o.err().toString());
        assertTrue(o.err().stream().anyMatch(l -> l.matches("note: the prompt has 200[0-9][0-9] tokens; .*")
                && l.contains("only the first 75")), () -> o.err().toString());
        assertTrue(Files.isRegularFile(outDir.resolve("long.wav")));
    }

    @Test
    void nanGuidance() throws IOException {
        assertRefused(generate("--guidance", "NaN"), "guidance", "NaN");
    }

    @Test
    void zeroSeconds() throws IOException {
        assertRefused(generate("--seconds", "0"), "--seconds", "0");
    }

    @Test
    void absurdSeconds() throws IOException {
        assertRefused(generate("--seconds", "1e9"), "seconds", "1.0E9");
    }

    @Test
    void absurdSteps() throws IOException {
        assertRefused(generate("--steps", "10000000"), "steps", "10000000");
    }

    @Test
    void nonNumericSteps() throws IOException {
        assertRefused(generate("--steps", "many"), "--steps", "many");
    }

    @Test
    void outputInAMissingFolder() throws IOException {
        assertRefused(generate("-o", outDir.resolve("nowhere/out.wav").toString()), "nowhere", "does not exist");
    }

    @Test
    void outputIsAFolder() throws IOException {
        Path folder = Files.createDirectory(tmp.resolve("a-folder"));
        assertRefused(generate("-o", folder.toString()), "a-folder", "is a folder");
    }

    @Test
    void generatingNeverWritesIntoTheModelFolder() throws IOException {
        Map<String, String> before = snapshot(model);
        Outcome o = generate("--model", model.toString(), "--spectrogram", outDir.resolve("mel.png").toString());
        assertEquals(0, o.exit(), () -> o.err().toString());
        assertEquals(before, snapshot(model));
    }

    @Test
    void convertingNeverWritesIntoTheModelFolder() throws IOException {
        Map<String, String> before = snapshot(model);
        Outcome o = run("convert", model.toString(), outDir.resolve("m.safetensors").toString(), "--dtype", "int8");
        assertEquals(0, o.exit(), () -> o.err().toString());
        assertEquals(before, snapshot(model));
        assertEquals(List.of("m.safetensors"), listing(outDir), "only the output, no temporary file");
    }

    @Test
    void aFailedConvertLeavesNoOutput() throws IOException {
        Path unet = model.resolve("unet/diffusion_pytorch_model.safetensors");
        Files.write(unet, Arrays.copyOf(Files.readAllBytes(unet), (int) Files.size(unet) / 2));
        Map<String, String> before = snapshot(model);
        Outcome o = run("convert", model.toString(), outDir.resolve("m.safetensors").toString());
        assertNotEquals(0, o.exit());
        assertTrue(o.errors().getFirst().contains("diffusion_pytorch_model.safetensors"), o.errors().toString());
        assertEquals(List.of(), listing(outDir), "no partial or temporary file");
        assertEquals(before, snapshot(model));
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Every path under {@code dir} with its size, modification time and, for a file, SHA-256. */
    static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                String hash = Files.isRegularFile(p) ? " " + sha256(p) : "";
                m.put(dir.relativize(p).toString(), Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis() + hash);
            }
        }
        return m;
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
