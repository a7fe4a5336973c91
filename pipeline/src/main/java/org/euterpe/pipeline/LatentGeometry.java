package org.euterpe.pipeline;

/**
 * How a length in seconds maps to latents, as the reference pipelines compute it.
 *
 * @param vocoderUpsampleFactor    seconds per mel frame: prod(upsample_rates) / sampling_rate
 * @param height                   mel frames, rounded up to a multiple of the VAE scale factor
 * @param originalWaveformLength   samples kept after vocoding: int(seconds * sampling_rate)
 * @param latentShape              {@code [batch, channels, height / f, mel_bins / f]}
 */
public record LatentGeometry(double vocoderUpsampleFactor, int height, int originalWaveformLength, int[] latentShape) {

    /**
     * @param seconds null for the model's default ({@code sample_size * f * vocoderUpsampleFactor})
     */
    public static LatentGeometry of(Double seconds, int batch, int latentChannels, int vaeScaleFactor, int melBins,
            int[] upsampleRates, int samplingRate, int unetSampleSize) {
        long prod = 1;
        for (int r : upsampleRates) {
            prod *= r;
        }
        double factor = (double) prod / samplingRate;
        double s = seconds != null ? seconds : unetSampleSize * vaeScaleFactor * factor;
        double minimum = factor * vaeScaleFactor;
        if (!(s >= minimum)) {
            throw new IllegalArgumentException("audio length " + s + " s is shorter than the model's minimum of "
                    + minimum + " s");
        }
        int height = (int) (s / factor); // Python int(): truncation
        int original = (int) (s * samplingRate);
        if (height % vaeScaleFactor != 0) {
            height = (int) Math.ceil((double) height / vaeScaleFactor) * vaeScaleFactor;
        }
        if (melBins % vaeScaleFactor != 0) {
            throw new IllegalArgumentException("mel bins " + melBins + " are not a multiple of the VAE factor "
                    + vaeScaleFactor);
        }
        return new LatentGeometry(factor, height, original,
                new int[] {batch, latentChannels, height / vaeScaleFactor, melBins / vaeScaleFactor});
    }

    public int latentSize() {
        return latentShape[0] * latentShape[1] * latentShape[2] * latentShape[3];
    }
}
