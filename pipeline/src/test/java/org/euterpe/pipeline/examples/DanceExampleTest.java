package org.euterpe.pipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Dance Diffusion example is {@link DanceExample}, quoted verbatim, and runs on the tiny model. */
class DanceExampleTest {
    @TempDir
    Path tmp;

    @Test
    void theReadmeQuotesTheCompiledExample() throws Exception {
        String src = Files.readString(TestData.repoRoot().resolve(
                "pipeline/src/test/java/org/euterpe/pipeline/examples/DanceExample.java"));
        String quoted = src.substring(src.indexOf("import "));
        String readme = Files.readString(TestData.repoRoot().resolve("README.md"));
        assertTrue(readme.contains(quoted), "README.md does not quote DanceExample.java from its imports on");
    }

    @Test
    void theExampleRunsTheThreeVerbsOnTheTinyModel() throws Exception {
        float[] mono = new float[1000]; // 1000 frames at 8 kHz: resampled to 16 kHz and up-mixed to stereo
        for (int i = 0; i < mono.length; i++) {
            mono[i] = (float) (0.3 * Math.sin(i * 0.2));
        }
        Path in = tmp.resolve("in.wav");
        WavWriter.write(in, mono, 8000, WavWriter.Format.PCM16, Map.of());
        DanceExample.run(TestData.conformanceCase("tiny-dance-diffusion"), in, tmp, 3);
        assertEquals(512, WavReader.read(tmp.resolve("new-1.wav")).frames());
        assertEquals(2, WavReader.read(tmp.resolve("regen-0.wav")).channelCount());
        assertEquals(2000, WavReader.read(tmp.resolve("regen-0.wav")).frames());
        assertEquals(512, WavReader.read(tmp.resolve("mix-4.wav")).frames()); // the shorter of 2000 and 512
    }
}
