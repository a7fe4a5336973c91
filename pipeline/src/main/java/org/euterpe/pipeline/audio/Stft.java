package org.euterpe.pipeline.audio;

/**
 * The audio package's one short-time Fourier transform, in double: a window of {@code n_fft} samples every
 * {@code hop}, a radix-2 FFT, each frame's spectrum handed to the caller, which keeps what it needs (magnitudes,
 * power, a mel projection). Its users differ only in how frames meet the ends of the signal:
 * <ul>
 *   <li>{@link #centred}: reflect-padded by {@code n_fft/2} each side, {@code samples / hop + 1} frames
 *       ({@code torch.stft(center=True, pad_mode='reflect')}, librosa's default): {@link TacotronStft} and
 *       {@link ClapFeatureExtractor};</li>
 *   <li>{@link #fromStart}: frames from sample 0, zeros past the end: {@link WaveformSpectrogram}.</li>
 * </ul>
 */
final class Stft {
    /** One frame's spectrum: bins {@code 0..n_fft/2} of {@code re} and {@code im}, valid until it returns. */
    @FunctionalInterface
    interface FrameSink {
        void accept(int frame, double[] re, double[] im);
    }

    private final int nFft;
    private final int hop;
    private final double[] window;

    /**
     * @param window {@code n_fft} values, a power of two of them
     * @param hop    samples between frames
     */
    Stft(double[] window, int hop) {
        if (window.length < 2 || Integer.bitCount(window.length) != 1 || hop <= 0) {
            throw new IllegalArgumentException("bad STFT: n_fft " + window.length + " (a power of two), hop " + hop);
        }
        this.nFft = window.length;
        this.hop = hop;
        this.window = window;
    }

    /**
     * The periodic Hann window of {@code win} samples (scipy {@code get_window('hann', win, fftbins=True)},
     * {@code torch.hann_window(win)}), centred in {@code nFft} zeros (librosa {@code pad_center}).
     */
    static double[] hann(int win, int nFft) {
        double[] w = new double[nFft];
        int offset = (nFft - win) / 2;
        for (int i = 0; i < win; i++) {
            w[offset + i] = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / win);
        }
        return w;
    }

    int nFft() {
        return nFft;
    }

    /** Frequency bins per frame, {@code n_fft/2 + 1}. */
    int bins() {
        return nFft / 2 + 1;
    }

    /** Frames {@link #centred} gives for {@code samples}: {@code samples / hop + 1}. */
    int centredFrames(int samples) {
        return samples / hop + 1;
    }

    /**
     * Reflect-padded by {@code n_fft/2} each side (the edge sample not repeated), one frame every hop from the
     * padded start; {@link #centredFrames} frames.
     *
     * @param x more than {@code n_fft/2} samples (reflection needs them)
     */
    void centred(double[] x, FrameSink sink) {
        int pad = nFft / 2;
        int n = x.length;
        if (n <= pad) {
            throw new IllegalArgumentException("audio of " + n + " samples is too short for the STFT (needs more than "
                    + pad + ")");
        }
        double[] re = new double[nFft];
        double[] im = new double[nFft];
        int frames = centredFrames(n);
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
                re[i] = x[j] * window[i];
                im[i] = 0;
            }
            fft(re, im);
            sink.accept(f, re, im);
        }
    }

    /** {@code frames} frames from sample 0, every hop, zeros past the end of {@code x}. */
    void fromStart(double[] x, int frames, FrameSink sink) {
        int n = x.length;
        double[] re = new double[nFft];
        double[] im = new double[nFft];
        for (int f = 0; f < frames; f++) {
            for (int i = 0; i < nFft; i++) {
                int s = f * hop + i;
                re[i] = s < n ? x[s] * window[i] : 0;
                im[i] = 0;
            }
            fft(re, im);
            sink.accept(f, re, im);
        }
    }

    /** {@code x} widened to double (exactly), as the products with the window are formed in double. */
    static double[] widen(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
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
}
