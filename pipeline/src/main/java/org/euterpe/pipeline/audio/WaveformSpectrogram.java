package org.euterpe.pipeline.audio;

/**
 * A log-mel spectrogram computed from a waveform, for models whose pipeline has no mel stage of its own
 * (Stable Audio decodes straight to audio): the channels averaged, a Hann-windowed STFT, HTK mel filters up
 * to Nyquist, {@code log10(power + 1e-10)}. For display ({@link SpectrogramPng}), not for any model.
 */
public final class WaveformSpectrogram {
    /** The spectrogram, {@code values} row-major {@code [frames, bins]}. */
    public record Mel(float[] values, int frames, int bins) {
    }

    private WaveformSpectrogram() {
    }

    /**
     * @param channels   {@code [channel][samples]}, at least one sample
     * @param sampleRate the rate, for the mel scale
     * @param bins       mel bins (e.g. 64)
     */
    public static Mel of(float[][] channels, int sampleRate, int bins) {
        int n = channels[0].length;
        if (n == 0 || bins < 1 || sampleRate < 1) {
            throw new IllegalArgumentException("need samples, bins and a rate (got " + n + ", " + bins + ", "
                    + sampleRate + ")");
        }
        float[] mono = new float[n];
        for (float[] c : channels) {
            for (int i = 0; i < n; i++) {
                mono[i] += c[i] / channels.length;
            }
        }
        int fft = 1024;
        while (fft > 16 && fft > n) {
            fft /= 2;
        }
        int hop = fft / 4;
        int frames = Math.max(1, 1 + (n - fft) / hop);
        int half = fft / 2 + 1;
        float[][] filters = melFilters(bins, half, fft, sampleRate);
        float[] out = new float[frames * bins];
        new Stft(Stft.hann(fft, fft), hop).fromStart(Stft.widen(mono), frames, (f, re, im) -> {
            for (int b = 0; b < bins; b++) {
                double power = 0;
                for (int k = 0; k < half; k++) {
                    if (filters[b][k] != 0) {
                        power += filters[b][k] * (re[k] * re[k] + im[k] * im[k]);
                    }
                }
                out[f * bins + b] = (float) Math.log10(power + 1e-10);
            }
        });
        return new Mel(out, frames, bins);
    }

    private static double hzToMel(double hz) {
        return 2595 * Math.log10(1 + hz / 700);
    }

    private static double melToHz(double mel) {
        return 700 * (Math.pow(10, mel / 2595) - 1);
    }

    /** Triangular filters on the HTK mel scale from 0 Hz to Nyquist, over the {@code half} FFT bins. */
    private static float[][] melFilters(int bins, int half, int fft, int rate) {
        double top = hzToMel(rate / 2.0);
        double[] edges = new double[bins + 2];
        for (int i = 0; i < edges.length; i++) {
            edges[i] = melToHz(top * i / (bins + 1));
        }
        float[][] f = new float[bins][half];
        for (int b = 0; b < bins; b++) {
            for (int k = 0; k < half; k++) {
                double hz = (double) k * rate / fft;
                double up = (hz - edges[b]) / Math.max(1e-9, edges[b + 1] - edges[b]);
                double down = (edges[b + 2] - hz) / Math.max(1e-9, edges[b + 2] - edges[b + 1]);
                f[b][k] = (float) Math.max(0, Math.min(up, down));
            }
        }
        return f;
    }
}
