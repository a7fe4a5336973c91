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

/** The README's audio-in example is {@link AudioInExample}, quoted verbatim, and it runs on the bundled model. */
class AudioInExampleTest {
    @TempDir
    Path tmp;

    @Test
    void theReadmeQuotesTheCompiledExample() throws Exception {
        String src = Files.readString(TestData.repoRoot().resolve(
                "pipeline/src/test/java/org/euterpe/pipeline/examples/AudioInExample.java"));
        String quoted = src.substring(src.indexOf("import "));
        assertTrue(Files.readString(TestData.repoRoot().resolve("README.md")).contains(quoted),
                "README.md does not quote AudioInExample.java from its imports on");
    }

    @Test
    void theExampleRunsOnTheBundledModel() throws Exception {
        float[] x = new float[4410];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.5 * Math.sin(2 * Math.PI * 440 * i / 44100.0));
        }
        Path in = tmp.resolve("in.wav");
        WavWriter.write(in, x, 44100, WavWriter.Format.PCM16, Map.of());
        AudioInExample.run(in, tmp, null, 2);
        assertEquals(1600, WavReader.read(tmp.resolve("flute.wav")).frames());
        assertEquals(3200, WavReader.read(tmp.resolve("longer.wav")).frames());
        assertTrue(Files.exists(tmp.resolve("between-4.wav")));
    }
}
