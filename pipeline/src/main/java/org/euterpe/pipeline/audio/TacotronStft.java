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
    private final Stft stft; // periodic Hann of win samples, centred in n_fft; reflect-padded frames
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
        this.stft = new Stft(Stft.hann(win, nFft), hop);
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
        double[][] out = new double[frames(wave.length)][];
        stft.centred(Stft.widen(wave), (f, re, im) -> {
            double[] mag = new double[re.length / 2 + 1];
            for (int k = 0; k < mag.length; k++) {
                mag[k] = Math.sqrt(re[k] * re[k] + im[k] * im[k]);
            }
            out[f] = mag;
        });
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

    @Override
    public String toString() {
        return "TacotronStft[" + sampleRate + " Hz, n_fft " + nFft + ", hop " + hop + ", " + nMels + " mels]";
    }
}
