package org.euterpe.pipeline.audio;

/**
 * The mel front-end AudioLDM and MusicLDM were trained with (AudioLDM's {@code audioldm/audio/stft.py}
 * {@code TacotronSTFT} and {@code tools.py} {@code wav_to_fbank}), which turns a waveform into the log-mel
 * spectrogram their VAE encodes:
 *
 * <pre>
 *   waveform ──mean removed, peak 0.5──▶ cut or zero-padded to target_length × hop ──peak 0.5──▶
 *   reflect-pad n_fft/2 each side ──▶ frames every hop, periodic Hann(win) ──▶ |DFT| [frames, n_fft/2+1]
 *   ──▶ Slaney mel filterbank [mels, n_fft/2+1] ──▶ log(max(x, 1e-5)) ──▶ cut or zero-padded to target_length
 * </pre>
 *
 * The real checkpoints use sampling rate 16 kHz, n_fft = win = 1024, hop 160, 64 mel bands from 0 to 8 kHz
 * ({@link #audioLdm()}). The filterbank is librosa's {@code filters.mel} with its defaults (Slaney mel scale,
 * Slaney area normalisation), computed in double and rounded to float as librosa returns it; the STFT is
 * computed in double (the reference's float32 convolution agrees to its rounding).
 */
public final class TacotronStft {
    /** log() clamps magnitudes here (dynamic_range_compression's clip_val). */
    public static final double CLIP = 1e-5;

    private final int sampleRate;
    private final int nFft;
    private final int hop;
    private final int nMels;
    private final double[] window; // periodic Hann of win samples, centred in n_fft
    private final float[][] melBasis; // [mels][n_fft/2 + 1]

    /**
     * @param sampleRate Hz
     * @param nFft       filter length, a power of two
     * @param hop        hop length in samples
     * @param win        window length, at most nFft
     * @param nMels      mel bands
     * @param fMin       lowest band edge, Hz
     * @param fMax       highest band edge, Hz
     */
    public TacotronStft(int sampleRate, int nFft, int hop, int win, int nMels, double fMin, double fMax) {
        if (sampleRate <= 0 || nFft < 2 || Integer.bitCount(nFft) != 1 || hop <= 0 || win <= 0 || win > nFft
                || nMels <= 0 || !(fMin >= 0 && fMax > fMin && fMax <= sampleRate / 2.0)) {
            throw new IllegalArgumentException("bad STFT settings: rate " + sampleRate + ", n_fft " + nFft
                    + " (a power of two), hop " + hop + ", win " + win + ", mels " + nMels + ", " + fMin + "-" + fMax
                    + " Hz");
        }
        this.sampleRate = sampleRate;
        this.nFft = nFft;
        this.hop = hop;
        this.nMels = nMels;
        this.window = new double[nFft];
        int offset = (nFft - win) / 2; // librosa pad_center
        for (int i = 0; i < win; i++) {
            window[offset + i] = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / win); // scipy get_window('hann', fftbins=True)
        }
        this.melBasis = slaneyMel(sampleRate, nFft, nMels, fMin, fMax);
    }

    /** AudioLDM's and MusicLDM's settings: 16 kHz, n_fft 1024, hop 160, win 1024, 64 mels, 0-8000 Hz. */
    public static TacotronStft audioLdm() {
        return new TacotronStft(16000, 1024, 160, 1024, 64, 0, 8000);
    }

    public int sampleRate() {
        return sampleRate;
    }

    public int hop() {
        return hop;
    }

    public int nMels() {
        return nMels;
    }

    public int nFft() {
        return nFft;
    }

    /** The filterbank {@code [mels][n_fft/2 + 1]} (a copy). */
    public float[][] melBasis() {
        float[][] c = new float[nMels][];
        for (int m = 0; m < nMels; m++) {
            c[m] = melBasis[m].clone();
        }
        return c;
    }

    /** Frames the STFT gives for {@code samples} samples: {@code samples / hop + 1}. */
    public int frames(int samples) {
        return samples / hop + 1;
    }

    /**
     * STFT magnitudes, as {@code STFT.transform}: reflect-padded by n_fft/2, one frame every hop.
     *
     * @param wave at least n_fft/2 + 1 samples (reflect padding needs them)
     * @return {@code [frames][n_fft/2 + 1]}
     */
    public double[][] magnitudes(float[] wave) {
        int pad = nFft / 2;
        if (wave.length <= pad) {
            throw new IllegalArgumentException("audio of " + wave.length + " samples is too short for the STFT (needs"
                    + " more than " + pad + ")");
        }
        int n = wave.length;
        int frames = frames(n);
        int bins = nFft / 2 + 1;
        double[][] out = new double[frames][bins];
        double[] re = new double[nFft];
        double[] im = new double[nFft];
        for (int f = 0; f < frames; f++) {
            int start = f * hop - pad;
            for (int i = 0; i < nFft; i++) {
                int j = start + i;
                // reflect without repeating the edge: -1 -> 1, n -> n - 2
                if (j < 0) {
                    j = -j;
                } else if (j >= n) {
                    j = 2 * (n - 1) - j;
                }
                re[i] = wave[j] * window[i];
                im[i] = 0;
            }
            fft(re, im);
            for (int k = 0; k < bins; k++) {
                out[f][k] = Math.sqrt(re[k] * re[k] + im[k] * im[k]);
            }
        }
        return out;
    }

    /** {@code log(max(mel_basis @ |STFT|, 1e-5))}, {@code [frames][mels]}. */
    public float[][] logMel(float[] wave) {
        double[][] mag = magnitudes(wave);
        float[][] out = new float[mag.length][nMels];
        for (int f = 0; f < mag.length; f++) {
            for (int m = 0; m < nMels; m++) {
                double s = 0;
                float[] w = melBasis[m];
                for (int k = 0; k < w.length; k++) {
                    s += w[k] * mag[f][k];
                }
                out[f][m] = (float) Math.log(Math.max(s, CLIP));
            }
        }
        return out;
    }

    /**
     * {@code wav_to_fbank} after reading: the waveform normalised as {@link #normalise}, its log-mel, cut or
     * zero-padded to {@code targetLength} frames.
     *
     * @return {@code [targetLength][mels]} row-major
     */
    public float[] fbank(float[] wave, int targetLength) {
        float[] w = normalise(wave, targetLength * hop);
        float[][] mel = logMel(w);
        float[] out = new float[targetLength * nMels];
        for (int f = 0; f < Math.min(targetLength, mel.length); f++) {
            System.arraycopy(mel[f], 0, out, f * nMels, nMels);
        }
        return out;
    }

    /**
     * {@code read_wav_file}'s level and length rules: remove the mean, scale the peak to 0.5
     * ({@code / (max|x| + 1e-8) * 0.5}), cut or zero-pad to {@code segment} samples, then scale the peak to
     * 0.5 again ({@code / max|x| * 0.5}).
     *
     * @throws IllegalArgumentException for 100 samples or fewer (the reference asserts more), or silence
     */
    public static float[] normalise(float[] wave, int segment) {
        if (wave.length <= 100) {
            throw new IllegalArgumentException("audio of " + wave.length + " samples is too short (more than 100"
                    + " needed)");
        }
        double mean = 0;
        for (float v : wave) {
            mean += v;
        }
        mean /= wave.length;
        double[] x = new double[wave.length];
        double peak = 0;
        for (int i = 0; i < x.length; i++) {
            x[i] = wave[i] - mean;
            peak = Math.max(peak, Math.abs(x[i]));
        }
        double[] y = new double[segment];
        for (int i = 0; i < Math.min(segment, x.length); i++) {
            y[i] = x[i] / (peak + 1e-8) * 0.5;
        }
        double peak2 = 0;
        for (double v : y) {
            peak2 = Math.max(peak2, Math.abs(v));
        }
        if (!(peak2 > 0)) {
            throw new IllegalArgumentException("the audio is silent (or constant) in its first " + segment
                    + " samples; there is nothing to encode");
        }
        float[] out = new float[segment];
        for (int i = 0; i < segment; i++) {
            out[i] = (float) (y[i] / peak2 * 0.5);
        }
        return out;
    }

    /** librosa {@code filters.mel(sr, n_fft, n_mels, fmin, fmax)}: htk=False, norm='slaney', float32. */
    static float[][] slaneyMel(int sr, int nFft, int nMels, double fMin, double fMax) {
        int bins = nFft / 2 + 1;
        double[] fftFreqs = new double[bins];
        for (int k = 0; k < bins; k++) {
            fftFreqs[k] = k * (sr / 2.0) / (bins - 1); // linspace(0, sr/2, bins)
        }
        double lo = hzToMel(fMin);
        double hi = hzToMel(fMax);
        double[] melF = new double[nMels + 2];
        for (int i = 0; i < melF.length; i++) {
            melF[i] = melToHz(lo + (hi - lo) * i / (nMels + 1)); // linspace(lo, hi, n_mels + 2)
        }
        float[][] w = new float[nMels][bins];
        for (int m = 0; m < nMels; m++) {
            double lowerWidth = melF[m + 1] - melF[m];
            double upperWidth = melF[m + 2] - melF[m + 1];
            double enorm = 2.0 / (melF[m + 2] - melF[m]);
            for (int k = 0; k < bins; k++) {
                double lower = (fftFreqs[k] - melF[m]) / lowerWidth;
                double upper = (melF[m + 2] - fftFreqs[k]) / upperWidth;
                w[m][k] = (float) (Math.max(0, Math.min(lower, upper)) * enorm);
            }
        }
        return w;
    }

    private static final double F_SP = 200.0 / 3;
    private static final double MIN_LOG_HZ = 1000;
    private static final double MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
    private static final double LOG_STEP = Math.log(6.4) / 27;

    /** Slaney's mel scale: linear below 1 kHz, logarithmic above. */
    static double hzToMel(double hz) {
        return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
    }

    static double melToHz(double mel) {
        return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
    }

    /** In-place radix-2 complex FFT (forward, no scaling). */
    static void fft(double[] re, double[] im) {
        int n = re.length;
        for (int i = 1, j = 0; i < n; i++) {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) {
                j ^= bit;
            }
            j ^= bit;
            if (i < j) {
                double t = re[i];
                re[i] = re[j];
                re[j] = t;
                t = im[i];
                im[i] = im[j];
                im[j] = t;
            }
        }
        double[] cos = new double[n / 2];
        double[] sin = new double[n / 2];
        for (int k = 0; k < n / 2; k++) {
            cos[k] = Math.cos(2 * Math.PI * k / n);
            sin[k] = -Math.sin(2 * Math.PI * k / n);
        }
        for (int len = 2; len <= n; len <<= 1) {
            int stride = n / len;
            for (int i = 0; i < n; i += len) {
                for (int k = 0; k < len / 2; k++) {
                    double wr = cos[k * stride];
                    double wi = sin[k * stride];
                    int a = i + k;
                    int b = a + len / 2;
                    double xr = re[b] * wr - im[b] * wi;
                    double xi = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - xr;
                    im[b] = im[a] - xi;
                    re[a] += xr;
                    im[a] += xi;
                }
            }
        }
    }

    @Override
    public String toString() {
        return "TacotronStft[" + sampleRate + " Hz, n_fft " + nFft + ", hop " + hop + ", " + nMels + " mels]";
    }
}
