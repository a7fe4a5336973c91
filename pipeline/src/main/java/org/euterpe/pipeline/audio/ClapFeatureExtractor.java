package org.euterpe.pipeline.audio;

/**
 * The CLAP audio front-end, as transformers' {@code ClapFeatureExtractor} (4.35) computes it for clips up to
 * {@code max_length_s}: the 48 kHz mono clip is padded to {@code nb_max_samples} ({@code repeatpad}: tiled a
 * whole number of times, then zeros; {@code repeat}: tiled and cut; {@code pad}: zeros), then
 *
 * <pre>
 *   reflect-pad n_fft/2 ──▶ frames every hop, periodic Hann(n_fft) ──▶ |DFT|^2 [frames, n_fft/2+1]
 *   ──▶ mel filterbank ──▶ max(., 1e-10) ──▶ 10 log10  (power_to_db, reference 1, no top_db)
 * </pre>
 *
 * With {@code truncation = "fusion"} the filterbank is torchaudio's (HTK mel scale, no normalisation) and the
 * log-mel is stacked four times ({@code [4, frames, mels]}); {@code is_longer} is then true, because the reference
 * marks one random clip of a batch without long clips as longer, which for one clip is that clip (batches are
 * not offered: the choice is random). With {@code rand_trunc} it
 * is librosa's (Slaney scale and normalisation), one copy. Clips longer than {@code nb_max_samples} are refused:
 * the reference crops them at random (fusion: three random chunks plus a bilinear shrink), which no
 * deterministic engine output can match.
 */
public final class ClapFeatureExtractor {
    private final int sampleRate;
    private final int nFft;
    private final int hop;
    private final int mels;
    private final int maxSamples;
    private final boolean fusion;
    private final String padding;
    private final Stft stft; // periodic Hann of n_fft samples, reflect-padded frames
    private final double[][] filters; // [mels][n_fft/2 + 1]

    /** Extracted features: {@code [channels, frames, mels]} row-major; channels 4 with fusion, else 1. */
    public record Features(float[] inputFeatures, int channels, int frames, int mels, boolean isLonger) {
    }

    /**
     * @param truncation {@code fusion} or {@code rand_trunc}
     * @param padding    {@code repeatpad}, {@code repeat} or {@code pad}
     */
    public ClapFeatureExtractor(int sampleRate, int nFft, int hop, int mels, double fMin, double fMax, int maxSamples,
            String truncation, String padding) {
        if (sampleRate <= 0 || nFft < 2 || Integer.bitCount(nFft) != 1 || hop <= 0 || mels <= 0 || maxSamples <= nFft
                || !(fMin >= 0 && fMax > fMin)) {
            throw new IllegalArgumentException("bad CLAP feature extractor settings: rate " + sampleRate + ", n_fft "
                    + nFft + ", hop " + hop + ", mels " + mels + ", max samples " + maxSamples);
        }
        if (!truncation.equals("fusion") && !truncation.equals("rand_trunc")) {
            throw new IllegalArgumentException("unsupported truncation \"" + truncation + "\" (fusion, rand_trunc)");
        }
        if (!padding.equals("repeatpad") && !padding.equals("repeat") && !padding.equals("pad")) {
            throw new IllegalArgumentException("unsupported padding \"" + padding + "\" (repeatpad, repeat, pad)");
        }
        this.sampleRate = sampleRate;
        this.nFft = nFft;
        this.hop = hop;
        this.mels = mels;
        this.maxSamples = maxSamples;
        this.fusion = truncation.equals("fusion");
        this.padding = padding;
        this.stft = new Stft(Stft.hann(nFft, nFft), hop);
        this.filters = fusion ? htkFilters(sampleRate, nFft, mels, fMin, fMax)
                : slaneyFilters(sampleRate, nFft, mels, fMin, fMax);
    }

    /** From a {@code preprocessor_config.json}'s fields. */
    public static ClapFeatureExtractor fromConfig(org.euterpe.tensor.json.JsonObject c) {
        int rate = (int) c.optLong("sampling_rate", 48000);
        return new ClapFeatureExtractor(rate, (int) c.optLong("fft_window_size", 1024),
                (int) c.optLong("hop_length", 480), (int) c.optLong("feature_size", 64),
                c.optDouble("frequency_min", 0), c.optDouble("frequency_max", 14000),
                (int) c.optLong("nb_max_samples", c.optLong("max_length_s", 10) * rate),
                c.optString("truncation", "fusion"), c.optString("padding", "repeatpad"));
    }

    public int sampleRate() {
        return sampleRate;
    }

    /** The longest clip {@link #extract} takes, in samples at {@link #sampleRate()}. */
    public int maxSamples() {
        return maxSamples;
    }

    /** The features of one mono clip at {@link #sampleRate()}. */
    public Features extract(float[] wave) {
        if (wave.length == 0) {
            throw new IllegalArgumentException("no audio: the clip has no samples");
        }
        if (wave.length > maxSamples) {
            throw new IllegalArgumentException("the clip has " + wave.length + " samples, more than the "
                    + maxSamples + " (" + maxSamples / (double) sampleRate + " s) the CLAP front-end takes without"
                    + " random cropping");
        }
        double[] x = new double[maxSamples];
        int n = wave.length;
        if (n == maxSamples || padding.equals("pad")) {
            for (int i = 0; i < n; i++) {
                x[i] = wave[i];
            }
        } else if (padding.equals("repeat")) {
            for (int i = 0; i < maxSamples; i++) {
                x[i] = wave[i % n];
            }
        } else { // repeatpad: whole repetitions, then zeros
            int reps = maxSamples / n;
            for (int i = 0; i < reps * n; i++) {
                x[i] = wave[i % n];
            }
        }
        float[] mel = logMel(x);
        int frames = mel.length / mels;
        int channels = fusion ? 4 : 1;
        float[] out = new float[channels * mel.length];
        for (int c = 0; c < channels; c++) {
            System.arraycopy(mel, 0, out, c * mel.length, mel.length);
        }
        // The reference marks one random clip of a batch with no long clip as longer (fusion only); for one clip
        // that is always this clip.
        return new Features(out, channels, frames, mels, fusion);
    }

    /** {@code [frames][mels]} row-major dB of the power mel spectrogram. */
    float[] logMel(double[] x) {
        int frames = stft.centredFrames(x.length);
        int bins = stft.bins();
        float[] out = new float[frames * mels];
        double[] power = new double[bins];
        stft.centred(x, (f, re, im) -> {
            for (int k = 0; k < bins; k++) {
                power[k] = re[k] * re[k] + im[k] * im[k];
            }
            for (int m = 0; m < mels; m++) {
                double s = 0;
                double[] w = filters[m];
                for (int k = 0; k < bins; k++) {
                    s += w[k] * power[k];
                }
                out[f * mels + m] = (float) (10 * Math.log10(Math.max(s, 1e-10)));
            }
        });
        return out;
    }

    /** torchaudio's default filterbank: HTK mel scale, triangles without normalisation. */
    static double[][] htkFilters(int sr, int nFft, int mels, double fMin, double fMax) {
        double lo = 2595 * Math.log10(1 + fMin / 700);
        double hi = 2595 * Math.log10(1 + fMax / 700);
        double[] edges = new double[mels + 2];
        for (int i = 0; i < edges.length; i++) {
            double mel = lo + (hi - lo) * i / (mels + 1);
            edges[i] = 700 * (Math.pow(10, mel / 2595) - 1);
        }
        return triangles(sr, nFft, edges, false);
    }

    /** librosa's default filterbank: Slaney mel scale and area normalisation. */
    static double[][] slaneyFilters(int sr, int nFft, int mels, double fMin, double fMax) {
        double lo = TacotronStft.hzToMel(fMin);
        double hi = TacotronStft.hzToMel(fMax);
        double[] edges = new double[mels + 2];
        for (int i = 0; i < edges.length; i++) {
            edges[i] = TacotronStft.melToHz(lo + (hi - lo) * i / (mels + 1));
        }
        return triangles(sr, nFft, edges, true);
    }

    private static double[][] triangles(int sr, int nFft, double[] edges, boolean slaneyNorm) {
        int bins = nFft / 2 + 1;
        int mels = edges.length - 2;
        double[][] w = new double[mels][bins];
        for (int m = 0; m < mels; m++) {
            double norm = slaneyNorm ? 2 / (edges[m + 2] - edges[m]) : 1;
            for (int k = 0; k < bins; k++) {
                double f = k * (sr / 2.0) / (bins - 1);
                double down = (f - edges[m]) / (edges[m + 1] - edges[m]);
                double up = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1]);
                w[m][k] = Math.max(0, Math.min(down, up)) * norm;
            }
        }
        return w;
    }
}
