package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Dance Diffusion verbs through the CLI on the tiny model: each writes stereo WAVs at the
 * model's rate; bad input (a prompt, options that do not apply, out-of-range values, unreadable
 * audio) exits 2 with one line naming the problem and leaves no file.
 */
class DanceCommandsTest {
    @TempDir
    Path tmp;

    private static String model() {
        return TestData.conformanceCase("tiny-dance-diffusion").toString();
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(p -> !p.getFileName().toString().equals("in.wav")).sorted().toList();
        }
    }

    private void assertRefused(String expected, String... args) throws IOException {
        BadInputTest.Outcome o = BadInputTest.run(args);
        assertEquals(2, o.exit(), String.join(" ", args) + ": " + o.err());
        // one error line (a length error comes after loading, so load and device lines may precede it)
        List<String> errors = o.errors().stream().filter(l -> l.startsWith("euterpe ")).toList();
        assertEquals(1, errors.size(), o.err().toString());
        assertTrue(errors.get(0).contains(expected), errors.get(0));
        assertEquals(List.of(), files(), "no output may be left behind");
    }

    private Path input() throws IOException {
        float[] mono = new float[3000]; // 3000 frames at 22.05 kHz, mono: resampled and up-mixed
        for (int i = 0; i < mono.length; i++) {
            mono[i] = (float) (0.4 * Math.sin(2 * Math.PI * 330 * i / 22050.0));
        }
        Path in = tmp.resolve("in.wav");
        WavWriter.write(in, mono, 22050, WavWriter.Format.FLOAT32, java.util.Map.of());
        return in;
    }

    @Test
    void generateWritesStereoAtTheModelRate() throws Exception {
        Path out = tmp.resolve("g.wav");
        BadInputTest.Outcome o = BadInputTest.run("generate", "--model", model(), "--seconds", "0.0301", "--steps",
                "3", "--count", "2", "--seed", "7", "--device", "cpu", "-o", out.toString());
        assertEquals(0, o.exit(), o.err().toString());
        for (String name : List.of("g-1.wav", "g-2.wav")) {
            WavReader.Audio a = WavReader.read(tmp.resolve(name));
            assertEquals(2, a.channelCount());
            assertEquals(16000, a.sampleRate());
            assertEquals(481, a.frames()); // int(0.0301 * 16000), padded to 488 for the U-Net and cut back
        }
    }

    @Test
    void regenerateAndInterpolateWriteOneFilePerOutput() throws Exception {
        Path in = input();
        BadInputTest.Outcome r = BadInputTest.run("regenerate", "--model", model(), "--init-audio", in.toString(),
                "--noise-level", "0.5", "--steps", "6", "--seed", "1", "--device", "cpu", "-o",
                tmp.resolve("r.wav").toString());
        assertEquals(0, r.exit(), r.err().toString());
        assertTrue(r.err().stream().anyMatch(l -> l.contains("resampled 22050 Hz to 16000 Hz")), r.err().toString());
        WavReader.Audio regen = WavReader.read(tmp.resolve("r.wav"));
        assertEquals(2, regen.channelCount());
        assertEquals(2177, regen.frames()); // 3000 frames at 22.05 kHz are 2177 at 16 kHz
        BadInputTest.Outcome i = BadInputTest.run("interpolate", "--model", model(), in.toString(),
                tmp.resolve("r.wav").toString(), "--points", "3", "--steps", "3", "--device", "cpu", "-o",
                tmp.resolve("i.wav").toString());
        assertEquals(0, i.exit(), i.err().toString());
        for (int k = 1; k <= 3; k++) {
            assertEquals(2177, WavReader.read(tmp.resolve("i-" + k + ".wav")).frames());
        }
    }

    @Test
    void badInputIsRefusedByName() throws Exception {
        String m = model();
        String o = tmp.resolve("x.wav").toString();
        assertRefused("takes no prompt", "generate", "a prompt", "--model", m, "-o", o);
        assertRefused("--guidance does not apply", "generate", "--model", m, "--guidance", "3", "-o", o);
        assertRefused("--sampler does not apply", "generate", "--model", m, "--sampler", "ddim", "-o", o);
        assertRefused("too short", "generate", "--model", m, "--seconds", "0.001", "--device", "cpu", "-o", o);
        assertRefused("--steps must be", "generate", "--model", m, "--steps", "0", "-o", o);
        assertRefused("--noise-level must be in (0, 1]", "regenerate", "--model", m, "--init-audio", o,
                "--noise-level", "0", "-o", o);
        assertRefused("needs --init-audio", "regenerate", "--model", m, "-o", o);
        assertRefused("nope.wav", "regenerate", "--model", m, "--init-audio", tmp.resolve("nope.wav").toString(),
                "-o", o);
        assertRefused("give two WAV files", "interpolate", "--model", m, "a.wav", "-o", o);
        assertRefused("--points must be", "interpolate", "--model", m, "a.wav", "b.wav", "--points", "1", "-o", o);
    }
}
