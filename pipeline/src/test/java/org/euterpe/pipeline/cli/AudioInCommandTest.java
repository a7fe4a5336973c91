package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audio-in verbs from the command line on the bundled tiny model, and their bad-input errors. */
class AudioInCommandTest {
    @TempDir
    Path tmp;
    private Path clip;
    private Path out;

    record Outcome(int exit, String out, String err) {
    }

    @BeforeEach
    void writeClip() throws IOException {
        float[] x = new float[(int) (0.1 * 22050)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.5 * Math.sin(2 * Math.PI * 330 * i / 22050));
        }
        clip = tmp.resolve("in.wav");
        WavWriter.write(clip, x, 22050, WavWriter.Format.PCM16, Map.of());
        out = Files.createDirectory(tmp.resolve("out")).resolve("out.wav");
    }

    static Outcome run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = new Main(new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true,
                StandardCharsets.UTF_8)).run(args);
        return new Outcome(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    private Outcome generate(String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "a flute", "--steps", "2", "--seed", "1", "--device",
                "cpu", "-o", out.toString(), "--force"));
        args.addAll(Arrays.asList(extra));
        return run(args.toArray(String[]::new));
    }

    private List<Path> outputs() throws IOException {
        try (Stream<Path> s = Files.list(out.getParent())) {
            return s.sorted().toList();
        }
    }

    @Test
    void regenerateInpaintAndContinue() throws IOException {
        Outcome r = generate("--init-audio", clip.toString(), "--strength", "0.5");
        assertEquals(0, r.exit(), r.err());
        assertEquals(1600, WavReader.read(out).frames()); // 0.1 s at the model's 16 kHz
        r = generate("--inpaint", clip.toString(), "--mask-start", "0.02", "--mask-end", "0.05");
        assertEquals(0, r.exit(), r.err());
        r = generate("--continue", clip.toString(), "--seconds", "0.05");
        assertEquals(0, r.exit(), r.err());
        assertEquals(2400, WavReader.read(out).frames());
    }

    @Test
    void interpolateWritesOneFilePerPoint() throws IOException {
        Outcome r = run("interpolate", "--from", "a flute", "--to", "a drum", "--steps-between", "1", "--steps", "2",
                "--seconds", "0.05", "--device", "cpu", "-o", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(3, outputs().size());
        assertTrue(Files.exists(out.resolveSibling("out-0.wav")) && Files.exists(out.resolveSibling("out-2.wav")));
        Path second = tmp.resolve("b.wav");
        Files.copy(clip, second);
        r = run("interpolate", "--from-audio", clip.toString(), "--to-audio", second.toString(), "--prompt", "a flute",
                "--steps-between", "0", "--steps", "2", "--device", "cpu", "-o", out.toString(), "--force");
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.exists(out.resolveSibling("out-1.wav")));
    }

    @Test
    void badAudioInputsNameTheProblemAndWriteNothing() throws IOException {
        Path missing = tmp.resolve("missing.wav");
        Path empty = tmp.resolve("empty.wav");
        WavWriter.write(empty, new float[0], 16000, WavWriter.Format.PCM16, Map.of());
        Path text = tmp.resolve("notes.wav");
        Files.writeString(text, "not audio");
        Object[][] cases = {
                {new String[] {"--init-audio", missing.toString(), "--strength", "0.5"}, "no such file"},
                {new String[] {"--init-audio", empty.toString(), "--strength", "0.5"}, "no audio"},
                {new String[] {"--init-audio", text.toString(), "--strength", "0.5"}, "not a WAV file"},
                {new String[] {"--init-audio", clip.toString(), "--strength", "0"}, "strength must be in (0, 1]"},
                {new String[] {"--init-audio", clip.toString(), "--strength", "1.01"}, "strength must be in (0, 1]"},
                {new String[] {"--init-audio", clip.toString()}, "needs --strength"},
                {new String[] {"--strength", "0.5"}, "needs source audio"},
                {new String[] {"--inpaint", clip.toString(), "--mask-start", "0.05", "--mask-end", "0.05"},
                        "start < end"},
                {new String[] {"--inpaint", clip.toString(), "--mask-start", "0.5", "--mask-end", "0.6"},
                        "after the"},
                {new String[] {"--inpaint", clip.toString(), "--mask-start", "0", "--mask-end", "0.1"}, "whole"},
                {new String[] {"--continue", clip.toString()}, "needs --seconds"},
                {new String[] {"--init-audio", clip.toString(), "--inpaint", clip.toString()}, "one of"},
        };
        for (Object[] c : cases) {
            Outcome r = generate((String[]) c[0]);
            assertTrue(r.exit() != 0, Arrays.toString((String[]) c[0]));
            assertTrue(r.err().contains((String) c[1]), Arrays.toString((String[]) c[0]) + " -> " + r.err());
            assertEquals(List.of(), outputs(), "a refused request left a file");
        }
    }
}
