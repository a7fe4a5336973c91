package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpectrogramPngTest {
    @TempDir
    Path dir;

    @Test
    void lowBinsAtTheBottomAndTheColormapSpansMinToMax() throws Exception {
        int frames = 3;
        int bins = 2;
        // frame-major [frames, bins]: bin 0 low values, bin 1 high values
        float[] mel = {-5f, 5f, -5f, 5f, 0f, 5f};
        Path p = dir.resolve("s.png");
        SpectrogramPng.write(p, mel, frames, bins, 2, 3);
        BufferedImage img = ImageIO.read(p.toFile());
        assertEquals(frames * 2, img.getWidth());
        assertEquals(bins * 3, img.getHeight());
        int bottomLeft = img.getRGB(0, img.getHeight() - 1) & 0xFFFFFF; // bin 0, frame 0: the minimum
        int topLeft = img.getRGB(0, 0) & 0xFFFFFF; // bin 1: the maximum
        assertEquals(SpectrogramPng.color(0f), bottomLeft);
        assertEquals(SpectrogramPng.color(1f), topLeft);
        assertNotEquals(bottomLeft, topLeft);
        // The colormap gets brighter monotonically (perceptual ordering).
        double prev = -1;
        for (int i = 0; i <= 20; i++) {
            int c = SpectrogramPng.color(i / 20f);
            double lum = 0.2126 * (c >> 16) + 0.7152 * ((c >> 8) & 255) + 0.0722 * (c & 255);
            assertEquals(true, lum >= prev, "luminance increases at " + i);
            prev = lum;
        }
    }
}
