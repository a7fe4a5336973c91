package org.euterpe.pipeline.dance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.dance.UNet1DConfig;
import org.euterpe.tensor.json.JsonException;

/**
 * Fuzzes what a Dance Diffusion model's text decides before any weight is read: {@code unet/config.json}
 * through {@link UNet1DConfig#read}, and the length rule {@link DanceGeometry#of} with the config's
 * rate and levels. Allowed outcomes: a config whose derived sizes are consistent, or
 * {@link ModelLoadException} / {@link JsonException} / {@link IllegalArgumentException} naming the
 * problem; never another exception, an overflow or a hang.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code DanceConfigFuzzTestInputs/readConfig/} as a plain test.
 */
class DanceConfigFuzzTest {

    @FuzzTest(maxDuration = "10m", maxExecutions = 1_000_000)
    void readConfig(FuzzedDataProvider data) {
        double seconds = data.consumeDouble();
        String json = data.consumeRemainingAsString();
        UNet1DConfig c;
        try {
            c = UNet1DConfig.read(ComponentFiles.parseConfig(json, "fuzz: unet/config.json"));
        } catch (ModelLoadException | JsonException | IllegalArgumentException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "an error without a message");
            return;
        }
        assertTrue(c.levels() >= 1 && c.levels() <= UNet1DConfig.MAX_LEVELS);
        assertEquals(1L << c.levels(), c.downScaleFactor());
        assertEquals(3L * c.downScaleFactor(), c.minLength());
        try {
            DanceGeometry g = DanceGeometry.of(seconds, c.sampleRate(), c.sampleSize(), c.downScaleFactor());
            assertEquals(0, g.padded() % c.downScaleFactor(), "padded " + g.padded());
            assertTrue(g.padded() >= g.original() && g.padded() - g.original() <= c.downScaleFactor());
            assertTrue(g.padded() >= c.minLength());
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("s"), e.getMessage());
        }
        // The default length too, when the config's window is legal.
        if (c.sampleSize() >= c.minLength()) {
            DanceGeometry d = DanceGeometry.of(null, c.sampleRate(), c.sampleSize(), c.downScaleFactor());
            assertTrue(d.original() >= c.sampleSize() - 1, d.toString());
        }
    }
}
