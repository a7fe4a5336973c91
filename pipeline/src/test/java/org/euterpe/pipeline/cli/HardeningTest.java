package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.BundledModel;
import org.euterpe.pipeline.ChildJvm;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regressions for the defects a fresh user's run found (issue 17): each test failed before its fix.
 * The signal-handler crash is {@link SignalChainingTest}, the interrupted write
 * {@link org.euterpe.pipeline.audio.InterruptedWriteTest}, the README's API example
 * {@link org.euterpe.pipeline.ReadmeExampleTest}.
 */
class HardeningTest {
    @TempDir
    Path tmp;

    private BadInputTest.Outcome generate(String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "a quiet bell", "--seconds", "0.064", "--steps", "2",
                "--seed", "1", "--device", "cpu"));
        args.addAll(Arrays.asList(extra));
        return BadInputTest.run(args.toArray(String[]::new));
    }

    private static void assertUsage(BadInputTest.Outcome o, String... words) {
        assertEquals(2, o.exit(), () -> "exit " + o.exit() + "; stderr " + o.err());
        String line = String.join("\n", o.errors());
        for (String w : words) {
            assertTrue(line.contains(w), () -> "\"" + line + "\" does not name " + w);
        }
        assertFalse(line.contains("Exception") || line.contains("\tat "), line);
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ---------------------------------------------------------------- 2. outputs

    @Test
    void aCharacterDeviceIsNeverReplaced() throws IOException {
        Path dev = Path.of("/dev/null");
        Assumptions.assumeTrue(Files.exists(dev), "SKIPPED: no /dev/null");
        assertUsage(generate("-o", dev.toString()), "/dev/null is a character device, not a regular file");
        assertFalse(Files.isRegularFile(dev, LinkOption.NOFOLLOW_LINKS), "/dev/null was replaced");
    }

    @Test
    void aFifoIsNeverReplaced() throws Exception {
        Path fifo = tmp.resolve("pipe.wav");
        Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0,
                "SKIPPED: mkfifo failed");
        assertUsage(generate("-o", fifo.toString(), "--force"), "is a FIFO");
        assertFalse(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aSymlinkIsNeverReplaced() throws IOException {
        Path target = Files.writeString(tmp.resolve("precious.txt"), "keep me");
        Path link = Files.createSymbolicLink(tmp.resolve("out.wav"), target);
        assertUsage(generate("-o", link.toString(), "--force"), "is a symbolic link");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("keep me", Files.readString(target));
    }

    @Test
    void anExistingFileNeedsForce() throws IOException {
        Path wav = Files.writeString(tmp.resolve("old.wav"), "old");
        assertUsage(generate("-o", wav.toString()), "old.wav exists; pass --force");
        assertEquals("old", Files.readString(wav));
        BadInputTest.Outcome o = generate("-o", wav.toString(), "--force");
        assertEquals(0, o.exit(), o.err()::toString);
        assertEquals("RIFF", new String(Files.readAllBytes(wav), 0, 4, StandardCharsets.US_ASCII));
        assertEquals(List.of("old.wav"), listing(), "no temporary file left");
    }

    @Test
    void twoOutputsAtOnePathAreRefused() throws IOException {
        Path x = tmp.resolve("x.wav");
        assertUsage(generate("-o", x.toString(), "--spectrogram", x.toString()), "two outputs", "x.wav");
        // Numbered outputs collide too: a-1.wav is both the first WAV and the first spectrogram.
        assertUsage(generate("-o", tmp.resolve("a.wav").toString(), "--spectrogram", tmp.resolve("a.wav").toString(),
                "--count", "2"), "two outputs", "a-1.wav");
        assertEquals(List.of(), listing());
    }

    @Test
    void standardOutputCarriesOneWav() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = new Main(new PrintStream(out, true), new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(new String[] {"generate", "a bell", "--seconds", "0.064", "--steps", "1", "--seed", "3",
                        "--device", "cpu", "-o", "-"});
        assertEquals(0, exit, err::toString);
        byte[] wav = out.toByteArray();
        assertEquals("RIFF", new String(wav, 0, 4, StandardCharsets.US_ASCII), "stdout holds only the WAV");
        assertEquals(wav.length - 8, ByteBuffer.wrap(wav, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("wrote standard output"));
        assertUsage(generate("-o", "-", "--count", "2"), "standard output", "makes 2");
    }

    // ---------------------------------------------------------------- 6. devices and ignored options

    @Test
    void malformedDevicesAreUsageErrors() {
        for (String d : List.of("bogus", "cuda:-1", "opencl:abc", "cuda:", "gpu")) {
            assertUsage(generate("--device", d), "unknown device \"" + d + "\"");
        }
    }

    @Test
    void anExplicitDeviceThatCannotStartFailsUnlessFallbackIsAllowed() throws IOException {
        Backends.Probe cuda = Backends.probe("cuda");
        Assumptions.assumeFalse(cuda.available(), "SKIPPED: a CUDA device opened here, so nothing fails");
        Path wav = tmp.resolve("c.wav");
        BadInputTest.Outcome o = generate("--device", "cuda", "-o", wav.toString());
        assertEquals(1, o.exit(), o.err()::toString);
        assertTrue(o.errors().getFirst().startsWith("euterpe generate: cuda unavailable: "), o.errors()::toString);
        assertFalse(Files.exists(wav));
        BadInputTest.Outcome fb = generate("--device", "cuda", "--fallback", "-o", wav.toString());
        assertEquals(0, fb.exit(), fb.err()::toString);
        assertTrue(fb.err().stream().anyMatch(l -> l.contains("falling back to the CPU")), fb.err()::toString);
    }

    @Test
    void deviceNotesNameNoJavaClasses() {
        for (Backends.Probe p : Backends.all()) {
            if (!p.available()) {
                assertFalse(p.reason().matches(".*\\b[A-Z][A-Za-z]*(Exception|Error)\\b.*"), p.reason());
            }
        }
    }

    @Test
    void optionsTheSamplerWouldIgnoreAreRefused() {
        assertUsage(generate("--sampler", "euler", "--eta", "0.5"), "eta", "ddim", "euler");
        assertUsage(generate("--karras"), "Karras", "not ddim"); // the model's own sampler is DDIM
        assertUsage(generate("--sampler", "pndm", "--karras"), "Karras", "not pndm");
        assertEquals(0, generate("--sampler", "euler", "--karras", "-o", tmp.resolve("k.wav").toString()).exit());
    }

    // ---------------------------------------------------------------- 7. files

    private Path modelCopy() throws IOException {
        return BadInputTest.copyTinyModel(tmp.resolve("model"));
    }

    @Test
    void convertIntoAMissingFolderCreatesNothing() throws IOException {
        Path model = modelCopy();
        Path missing = tmp.resolve("missing");
        assertUsage(BadInputTest.run("convert", model.toString(), missing.resolve("o.safetensors").toString()),
                "output folder", "missing", "does not exist");
        assertFalse(Files.exists(missing));
    }

    @Test
    void convertChecksKeepF32Names() throws IOException {
        Path model = modelCopy();
        assertUsage(BadInputTest.run("convert", model.toString(), tmp.resolve("o.safetensors").toString(),
                "--dtype", "f16", "--keep-f32", "vae,bogus"), "no component \"bogus\"");
    }

    @Test
    void convertRefusesWhatGenerateRefuses() throws IOException {
        Path model = modelCopy();
        Path cfg = model.resolve("vocoder/config.json");
        Files.writeString(cfg, Files.readString(cfg).replaceFirst("\\{", "{\"bogus_option\": 3,"));
        BadInputTest.Outcome o = BadInputTest.run("convert", model.toString(), tmp.resolve("o.safetensors").toString());
        assertEquals(1, o.exit(), o.err()::toString);
        assertTrue(o.errors().getFirst().contains("bogus_option"), o.errors()::toString);
        assertFalse(listing().stream().anyMatch(n -> n.contains("o.safetensors")), listing()::toString);
    }

    @Test
    void convertRefusesNanWeights() throws IOException {
        Path model = modelCopy();
        Path vocoder = model.resolve("vocoder/model.safetensors");
        byte[] b = Files.readAllBytes(vocoder);
        long header = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int at = (int) (8 + header); // the first tensor's first element (the tiny model is all f32)
        ByteBuffer.wrap(b, at, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
        Files.write(vocoder, b);
        BadInputTest.Outcome o = BadInputTest.run("convert", model.toString(), tmp.resolve("o.safetensors").toString());
        assertEquals(1, o.exit(), o.err()::toString);
        assertTrue(o.errors().getFirst().contains("NaN or infinite"), o.errors()::toString);
        assertTrue(o.errors().getFirst().contains("vocoder"), o.errors()::toString);
    }

    @Test
    void jsonSyntaxErrorsNameTheFile() throws IOException {
        Path model = modelCopy();
        Files.writeString(model.resolve("vae/config.json"), "{\"a\":");
        BadInputTest.Outcome o = generate("--model", model.toString(), "-o", tmp.resolve("a.wav").toString());
        assertEquals(1, o.exit());
        assertTrue(o.errors().getFirst().contains("vae/config.json"), o.errors()::toString);
        Files.copy(TestData.conformanceCase("tiny-audioldm").resolve("vae/config.json"),
                model.resolve("vae/config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(model.resolve("model_index.json"), "{\"a\":");
        o = generate("--model", model.toString(), "-o", tmp.resolve("a.wav").toString());
        assertTrue(o.errors().getFirst().contains("model_index.json"), o.errors()::toString);
        o = BadInputTest.run("convert", model.toString(), tmp.resolve("o.safetensors").toString());
        assertTrue(o.errors().getFirst().contains("model_index.json"), o.errors()::toString);
    }

    // ---------------------------------------------------------------- 8. reproducibility metadata

    @Test
    void theWavRecordsEverySettingAndVerbosePrintsACommandThatReproducesIt() throws IOException {
        Path first = tmp.resolve("first.wav");
        BadInputTest.Outcome o = BadInputTest.run("generate", "a quiet bell", "--seconds", "0.064", "--steps", "3",
                "--seed", "7", "--device", "cpu", "--negative", "noise, hum", "--sampler", "euler", "--karras",
                "--guidance", "3", "--noise", "torch", "--verbose", "-o", first.toString());
        assertEquals(0, o.exit(), o.err()::toString);
        Map<String, String> info = infoChunk(first);
        String comment = info.get("ICMT");
        for (String kv : List.of("prompt=\"a quiet bell\"", "negative_prompt=\"noise, hum\"", "seed=\"7\"",
                "steps=\"3\"", "guidance=\"3.0\"", "sampler=\"euler\"", "karras=\"true\"", "eta=\"0.0\"",
                "noise=\"torch\"", "count=\"1\"", "model=")) {
            assertTrue(comment.contains(kv), () -> comment + " lacks " + kv);
        }
        String settings = o.err().stream().filter(l -> l.startsWith("settings ")).findFirst().orElseThrow();
        List<String> argv = shellWords(settings.substring("settings euterpe ".length()));
        Path second = tmp.resolve("second.wav");
        argv.addAll(List.of("--seconds", "0.064", "-o", second.toString()));
        BadInputTest.Outcome again = BadInputTest.run(argv.toArray(String[]::new));
        assertEquals(0, again.exit(), again.err()::toString);
        assertArrayEquals(data(first), data(second), "the printed command reproduces the audio");
        assertEquals(comment, infoChunk(second).get("ICMT"));
    }

    /** Splits a command line the way the shell would (plain words and '...' quoting only). */
    private static List<String> shellWords(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'') {
                quoted = !quoted;
                any = true;
            } else if (c == '\\' && !quoted && i + 1 < line.length()) {
                w.append(line.charAt(++i));
            } else if (c == ' ' && !quoted) {
                if (any || !w.isEmpty()) {
                    out.add(w.toString());
                }
                w.setLength(0);
                any = false;
            } else {
                w.append(c);
            }
        }
        if (any || !w.isEmpty()) {
            out.add(w.toString());
        }
        return out;
    }

    private static Map<String, String> infoChunk(Path wav) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, String> out = new LinkedHashMap<>();
        int p = 12;
        while (p + 8 <= b.limit()) {
            String id = new String(b.array(), p, 4, StandardCharsets.US_ASCII);
            int size = b.getInt(p + 4);
            if (id.equals("LIST") && new String(b.array(), p + 8, 4, StandardCharsets.US_ASCII).equals("INFO")) {
                int q = p + 12;
                while (q < p + 8 + size) {
                    String tag = new String(b.array(), q, 4, StandardCharsets.US_ASCII);
                    int n = b.getInt(q + 4);
                    String v = new String(b.array(), q + 8, n, StandardCharsets.UTF_8);
                    out.put(tag, v.endsWith("\0") ? v.substring(0, v.indexOf('\0')) : v);
                    q += 8 + n + (n & 1);
                }
            }
            p += 8 + size + (size & 1);
        }
        return out;
    }

    private static byte[] data(Path wav) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
        int p = 12;
        while (p + 8 <= b.limit()) {
            String id = new String(b.array(), p, 4, StandardCharsets.US_ASCII);
            int size = b.getInt(p + 4);
            if (id.equals("data")) {
                return Arrays.copyOfRange(b.array(), p + 8, p + 8 + size);
            }
            p += 8 + size + (size & 1);
        }
        throw new AssertionError("no data chunk in " + wav);
    }

    // ---------------------------------------------------------------- 9. smaller things

    @Test
    void aPromptMayStartWithADash() throws IOException {
        Path a = tmp.resolve("a.wav");
        BadInputTest.Outcome o = generate("-o", a.toString(), "--", "-- minimal techno");
        // generate() put a prompt before the options: replace it by the dashed one alone.
        assertUsage(o, "exactly one prompt");
        List<String> args = new ArrayList<>(List.of("generate", "--seconds", "0.064", "--steps", "1", "--seed", "1",
                "--device", "cpu", "-o", a.toString(), "--", "-- minimal techno"));
        o = BadInputTest.run(args.toArray(String[]::new));
        assertEquals(0, o.exit(), o.err()::toString);
        assertEquals("-- minimal techno", infoChunk(a).get("INAM"));
        Path b = tmp.resolve("b.wav");
        o = BadInputTest.run("generate", "--prompt", "-fx chain", "--seconds", "0.064", "--steps", "1", "--device",
                "cpu", "-o", b.toString());
        assertEquals(0, o.exit(), o.err()::toString);
        assertEquals("-fx chain", infoChunk(b).get("INAM"));
    }

    @Test
    void theBundledModelDefaultsToAUsefulLength() throws IOException {
        Path a = tmp.resolve("a.wav");
        BadInputTest.Outcome o = BadInputTest.run("generate", "x", "--steps", "1", "--device", "cpu", "-o",
                a.toString());
        assertEquals(0, o.exit(), o.err()::toString);
        long samples = (Files.size(a) - 44) / 2;
        assertTrue(samples >= BundledModel.DEFAULT_SECONDS * 16000, samples + " samples");
        assertTrue(Double.parseDouble(commentValue(infoChunk(a).get("ICMT"), "seconds")) >= BundledModel.DEFAULT_SECONDS);
    }

    private static String commentValue(String comment, String key) {
        int i = comment.indexOf(key + "=\"");
        return comment.substring(i + key.length() + 2, comment.indexOf('"', i + key.length() + 2));
    }

    @Test
    void inspectNamesASpecialFile() {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/zero")), "SKIPPED: no /dev/zero");
        BadInputTest.Outcome o = BadInputTest.run("inspect", "/dev/zero");
        assertEquals(2, o.exit());
        assertEquals("euterpe inspect: /dev/zero is not a regular file", o.errors().getFirst());
    }

    @Test
    void devicesHelpIsHelp() {
        BadInputTest.Outcome o = BadInputTest.run("devices", "--help");
        assertEquals(0, o.exit());
        assertEquals("usage: euterpe devices", o.out().getFirst());
        assertFalse(String.join("\n", o.out()).contains("available"));
    }

    @Test
    void theEtaLeavesTheWarmUpStepOut() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong();
        Progress p = new Progress(new PrintStream(b, true, StandardCharsets.UTF_8), false, 0, now::get);
        p.onStageStart("denoise");
        now.addAndGet(10_000_000_000L); // a 10 s first step (JIT warm-up)
        p.onStep(1, 11);
        now.addAndGet(1_000_000_000L); // then 1 s a step
        p.onStep(2, 11);
        String[] lines = b.toString(StandardCharsets.UTF_8).split("\n");
        assertTrue(lines[lines.length - 1].contains("1.00 it/s  ETA 9.0 s"), lines[lines.length - 1]);
        assertTrue(b.toString(StandardCharsets.UTF_8).contains("ETA --"), "no ETA from the warm-up step alone");
    }

    @Test
    void theFirstStepLineGivesBothStartUpMilestones() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(5_000_000_000L);
        Progress p = new Progress(new PrintStream(b, true, StandardCharsets.UTF_8), false, 5_000_000_000L, now::get);
        now.addAndGet(600_000_000L); // load and encode
        p.onStageStart("denoise");
        now.addAndGet(2_000_000_000L); // the first step
        p.onStep(1, 3);
        p.onStageStart("denoise"); // a second loop (another prompt) does not move the first milestone
        p.onStep(1, 3);
        String out = b.toString(StandardCharsets.UTF_8);
        assertTrue(out.startsWith("first step done 2.600 s after start (denoising began at 0.600 s)"), out);
        assertEquals(1, out.split("first step done", -1).length - 1, out);
    }

    @Test
    void anUnwritableCacheSaysWhatToDo() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        ChildJvm.Result r = ChildJvm.engine().env("EUTERPE_CACHE", file.resolve("cache").toString())
                .run(Main.class, 120, "generate", "x", "--device", "cpu", "-o", tmp.resolve("o.wav").toString());
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("cannot unpack the bundled model into " + file.resolve("cache")), r.err());
        assertTrue(r.err().contains("set EUTERPE_CACHE to a writable folder"), r.err());
    }
}
