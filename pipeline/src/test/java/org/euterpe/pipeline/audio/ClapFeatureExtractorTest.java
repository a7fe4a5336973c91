package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;

/**
 * The CLAP front-end against the reference's {@code clip.N.input_features} and {@code clip.N.is_longer} in
 * {@code tiny-musicldm-rerank} (six clips of 0.3-10 s at 48 kHz: repeat-padded, fusion's four copies).
 * Measured: max abs error 7.6e-6 dB (float32 output of a float64 computation); the test allows 1e-4.
 */
class ClapFeatureExtractorTest {
    @Test
    void matchesTheReferenceFeatures() throws IOException {
        Path dir = TestData.sharedOrSkip("conformance/tiny-musicldm-rerank");
        Path fe = TestData.conformanceCase("tiny-musicldm").resolve("feature_extractor/preprocessor_config.json");
        ClapFeatureExtractor x = ClapFeatureExtractor.fromConfig(new JsonObject(Json.parse(Files.readString(fe)), fe.toString()));
        double worst = 0;
        try (SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            for (int c = 0; c < 6; c++) {
                float[] audio = g.floats("clip." + c + ".audio");
                float[] expect = g.floats("clip." + c + ".input_features");
                long[] longer = g.longs("clip." + c + ".is_longer");
                ClapFeatureExtractor.Features f = x.extract(audio);
                assertEquals(expect.length, f.inputFeatures().length, "clip " + c);
                assertEquals(4, f.channels());
                assertEquals(longer[0] != 0, f.isLonger(), "clip " + c + " is_longer");
                for (int i = 0; i < expect.length; i++) {
                    double e = Math.abs(expect[i] - f.inputFeatures()[i]);
                    worst = Math.max(worst, e);
                    if (e > 1e-4) {
                        throw new AssertionError("clip " + c + " value " + i + ": " + f.inputFeatures()[i]
                                + " vs reference " + expect[i]);
                    }
                }
            }
        }
        System.out.printf("CLAP input_features: max abs error %.2e dB%n", worst);
    }

    @Test
    void refusesWhatItCannotReproduce() {
        ClapFeatureExtractor x = new ClapFeatureExtractor(48000, 1024, 480, 64, 0, 14000, 48000, "fusion", "repeatpad");
        assertThrows(IllegalArgumentException.class, () -> x.extract(new float[0]));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> x.extract(new float[48001])).getMessage()
                .contains("random"));
        assertThrows(IllegalArgumentException.class,
                () -> new ClapFeatureExtractor(48000, 1024, 480, 64, 0, 14000, 48000, "crop", "repeatpad"));
    }
}
