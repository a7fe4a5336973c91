package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code euterpe score} on tiny-musicldm with the reference's rerank.0 clips written as float WAVs: the printed
 * order and logits are the reference's; and its bad-input errors.
 */
class ScoreCommandTest {
    @TempDir
    Path tmp;

    private Path clip(SafetensorsFile g, int i) throws IOException {
        Path p = tmp.resolve("clip" + i + ".wav");
        WavWriter.write(p, g.floats("clip." + i + ".audio"), 48000, WavWriter.Format.FLOAT32, Map.of());
        return p;
    }

    @Test
    void printsTheFilesBestFirstWithTheReferenceLogits() throws IOException {
        Path golden = TestData.conformanceCase("tiny-musicldm-rerank").resolve("golden.safetensors");
        Path model = TestData.conformanceCase("tiny-musicldm");
        try (SafetensorsFile g = SafetensorsFile.open(golden)) {
            Path c0 = clip(g, 0);
            Path c1 = clip(g, 1);
            Path c2 = clip(g, 2);
            AudioInCommandTest.Outcome r = AudioInCommandTest.run("score", c0.toString(), c1.toString(), c2.toString(),
                    "--prompt", "A hammer is hitting a wooden surface", "--model", model.toString(), "--device", "cpu");
            assertEquals(0, r.exit(), r.err());
            List<String> lines = r.out().lines().toList();
            assertEquals(4, lines.size(), r.out());
            float[] ref = g.floats("rerank.0.logits_per_text");
            long[] order = g.longs("rerank.0.order");
            Path[] files = {c0, c1, c2};
            for (int rank = 0; rank < 3; rank++) {
                String[] cols = lines.get(rank + 1).trim().split("\\s+");
                int clip = (int) order[rank];
                assertEquals(files[clip].toString(), cols[3], "rank " + (rank + 1));
                assertEquals(ref[clip], Float.parseFloat(cols[1]), 1e-4, "logit of clip " + clip);
            }
        }
    }

    @Test
    void badInputIsNamed() throws IOException {
        Path musicldm = TestData.conformanceCase("tiny-musicldm");
        Path wav = tmp.resolve("a.wav");
        WavWriter.write(wav, new float[4800], 48000, WavWriter.Format.PCM16, Map.of());
        AudioInCommandTest.Outcome r = AudioInCommandTest.run("score", wav.toString(), "--prompt", "x", "--model",
                TestData.conformanceCase("tiny-audioldm").toString(), "--device", "cpu");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("ships only the CLAP text branch"), r.err());

        Path junk = Files.writeString(tmp.resolve("junk.wav"), "not audio");
        r = AudioInCommandTest.run("score", junk.toString(), "--prompt", "x", "--model", musicldm.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("junk.wav"), r.err());

        r = AudioInCommandTest.run("score", tmp.resolve("missing.wav").toString(), "--prompt", "x", "--model",
                musicldm.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("missing.wav"), r.err());

        r = AudioInCommandTest.run("score", wav.toString(), "--model", musicldm.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--prompt"), r.err());

        r = AudioInCommandTest.run("score", "--prompt", "x", "--model", musicldm.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("audio files"), r.err());
    }
}
