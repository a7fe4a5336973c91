package org.euterpe.pipeline.dance;

/**
 * The length rule of diffusers' {@code DanceDiffusionPipeline} (float64, as Python computes it):
 * the requested seconds times the rate, truncated to {@code original}; the U-Net runs on
 * {@code padded}, the next multiple of {@code 2^levels} (unless already one), and the output is
 * clamped and then cut back to {@code original}.
 *
 * @param seconds  the requested length (the training window when none was asked for)
 * @param original samples kept: {@code int(seconds * rate)}
 * @param padded   samples the U-Net runs on
 */
public record DanceGeometry(double seconds, int original, int padded) {

    /** Whether the output is cut after denoising. */
    public boolean cut() {
        return original != padded;
    }

    /**
     * @param seconds         null for the model's training window ({@code sample_size / sample_rate})
     * @param sampleRate      the model's rate
     * @param sampleSize      the training window in samples
     * @param downScaleFactor {@code 2^levels}
     * @throws IllegalArgumentException below the minimum length {@code 3 * downScaleFactor} or for a
     *                                  length that does not fit an int
     */
    public static DanceGeometry of(Double seconds, int sampleRate, int sampleSize, int downScaleFactor) {
        double a = seconds != null ? seconds : (double) sampleSize / sampleRate;
        if (!Double.isFinite(a) || a <= 0) {
            throw new IllegalArgumentException("length must be a positive number of seconds, got " + a);
        }
        double s = a * sampleRate;
        if (s < 3.0 * downScaleFactor) {
            throw new IllegalArgumentException(a + " s is too short for this model: it needs at least "
                    + 3.0 * downScaleFactor / sampleRate + " s (" + 3 * downScaleFactor + " samples at " + sampleRate
                    + " Hz)");
        }
        double padded = s % downScaleFactor == 0 ? s : (Math.floor(s / downScaleFactor) + 1) * downScaleFactor;
        if (padded > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException(a + " s is too long (" + (long) padded + " samples)");
        }
        return new DanceGeometry(a, (int) s, (int) padded);
    }
}
