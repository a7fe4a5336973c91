package org.euterpe.pipeline.audio;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import javax.imageio.ImageIO;

/**
 * A mel spectrogram as a PNG: time left to right, low mel bins at the bottom, values mapped
 * through the perceptually uniform "magma" colormap between the spectrogram's own min and max.
 */
public final class SpectrogramPng {
    /** Magma control points (from dark to bright), interpolated linearly. */
    private static final int[][] MAGMA = {
        {0, 0, 4}, {28, 16, 68}, {79, 18, 123}, {129, 37, 129}, {181, 54, 122},
        {229, 80, 100}, {251, 135, 97}, {254, 194, 135}, {252, 253, 191}};

    private SpectrogramPng() {
    }

    /**
     * @param mel    row-major {@code [frames, bins]}
     * @param xScale pixels per frame, {@code yScale} pixels per mel bin (1 or more): short clips and
     *               models with few mel bins stay visible
     */
    public static void write(Path path, float[] mel, int frames, int bins, int xScale, int yScale)
            throws IOException {
        AtomicFiles.write(path, body(mel, frames, bins, xScale, yScale));
    }

    /** The PNG's bytes as a body for {@link AtomicFiles} (see {@link #write}). */
    public static AtomicFiles.Body body(float[] mel, int frames, int bins, int xScale, int yScale) {
        if (mel.length != (long) frames * bins) {
            throw new IllegalArgumentException(mel.length + " values are not " + frames + " x " + bins);
        }
        if (frames == 0 || bins == 0) {
            throw new IllegalArgumentException("empty spectrogram");
        }
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : mel) {
            if (Float.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        float range = hi > lo ? hi - lo : 1f;
        int sx = Math.max(1, xScale);
        int sy = Math.max(1, yScale);
        BufferedImage img = new BufferedImage(frames * sx, bins * sy, BufferedImage.TYPE_INT_RGB);
        for (int t = 0; t < frames; t++) {
            for (int b = 0; b < bins; b++) {
                float v = mel[t * bins + b];
                int rgb = color(Float.isFinite(v) ? (v - lo) / range : 0f);
                int y0 = (bins - 1 - b) * sy;
                for (int dy = 0; dy < sy; dy++) {
                    for (int dx = 0; dx < sx; dx++) {
                        img.setRGB(t * sx + dx, y0 + dy, rgb);
                    }
                }
            }
        }
        return out -> {
            // Without this ImageIO buffers the stream in an imageio*.tmp file of its own in java.io.tmpdir,
            // which an interrupted run would leave behind.
            ImageIO.setUseCache(false);
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer available");
            }
        };
    }

    /** Magma colour of {@code x} in [0, 1] as 0xRRGGBB. */
    static int color(float x) {
        float p = Math.max(0f, Math.min(1f, x)) * (MAGMA.length - 1);
        int i = Math.min((int) p, MAGMA.length - 2);
        float f = p - i;
        int r = Math.round(MAGMA[i][0] + f * (MAGMA[i + 1][0] - MAGMA[i][0]));
        int g = Math.round(MAGMA[i][1] + f * (MAGMA[i + 1][1] - MAGMA[i][1]));
        int b = Math.round(MAGMA[i][2] + f * (MAGMA[i + 1][2] - MAGMA[i][2]));
        return (r << 16) | (g << 8) | b;
    }
}
