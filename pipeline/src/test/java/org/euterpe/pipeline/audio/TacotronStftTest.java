package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * AudioLDM's mel front-end against values computed independently here: a direct double-precision DFT,
 * Slaney's mel formulas written from the Auditory Toolbox definition (linear 200/3 Hz per mel below 1 kHz,
 * 27 mels per factor 6.4 above), and a tone whose Hann-windowed spectrum is known in closed form.
 */
class TacotronStftTest {
    /** Slaney: f < 1000 Hz: f / (200/3); else 15 + 27 ln(f/1000) / ln 6.4. */
    static double slaney(double hz) {
        return hz < 1000 ? 3 * hz / 200 : 15 + 27 * Math.log(hz / 1000) / Math.log(6.4);
    }

    static double slaneyInv(double mel) {
        return mel < 15 ? 200 * mel / 3 : 1000 * Math.pow(6.4, (mel - 15) / 27);
    }

    @Test
    void melScaleAnchors() {
        assertEquals(15, TacotronStft.hzToMel(1000), 1e-12);
        assertEquals(42, TacotronStft.hzToMel(6400), 1e-12);
        for (double hz : new double[] {0, 120, 999.9, 1000, 2500, 8000, 22050}) {
            assertEquals(slaney(hz), TacotronStft.hzToMel(hz), 1e-9);
            assertEquals(hz, TacotronStft.melToHz(TacotronStft.hzToMel(hz)), 1e-9 * Math.max(1, hz));
        }
    }

    @Test
    void filterbankIsSlaneyTrianglesWithAreaNormalisation() {
        TacotronStft s = TacotronStft.audioLdm();
        float[][] w = s.melBasis();
        assertEquals(64, w.length);
        assertEquals(513, w[0].length);
        double top = slaney(8000);
        for (int m = 0; m < 64; m++) {
            // band m: triangle from edge m to edge m + 2 of 66 equally spaced mel points, peak at m + 1,
            // scaled so its height is 2 / (upper edge - lower edge) in Hz
            double lo = slaneyInv(top * m / 65);
            double mid = slaneyInv(top * (m + 1) / 65);
            double hi = slaneyInv(top * (m + 2) / 65);
            for (int k = 0; k < 513; k++) {
                double f = k * 15.625;
                double tri = f <= lo || f >= hi ? 0 : f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
                double expect = tri * 2 / (hi - lo);
                assertEquals(expect, w[m][k], 1e-6 * Math.max(1e-3, expect), "band " + m + " bin " + k);
            }
        }
        // Lowest band: 0 Hz to 2 mels (133.3 Hz), first bins only; bin 0 is the lower edge.
        assertEquals(0f, w[0][0]);
        assertTrue(w[0][1] > 0);
    }

    @Test
    void stftIsTheReflectPaddedHannDft() {
        TacotronStft s = new TacotronStft(16000, 256, 40, 200, 16, 0, 8000); // win < n_fft: centred window
        Random r = new Random(5);
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * 0.3);
        }
        double[][] mag = s.magnitudes(x);
        assertEquals(1000 / 40 + 1, mag.length);
        int n = 256;
        for (int f : new int[] {0, 1, 7, 12, 24, 25}) {
            for (int k = 0; k <= n / 2; k++) {
                double re = 0;
                double im = 0;
                for (int i = 0; i < n; i++) {
                    int j = f * 40 - n / 2 + i;
                    int jj = j < 0 ? -j : j >= x.length ? 2 * x.length - 2 - j : j; // numpy/torch "reflect"
                    int wi = i - (n - 200) / 2;
                    double win = wi < 0 || wi >= 200 ? 0 : 0.5 - 0.5 * Math.cos(2 * Math.PI * wi / 200);
                    re += x[jj] * win * Math.cos(2 * Math.PI * k * i / n);
                    im -= x[jj] * win * Math.sin(2 * Math.PI * k * i / n);
                }
                assertEquals(Math.hypot(re, im), mag[f][k], 1e-9, "frame " + f + " bin " + k);
            }
        }
    }

    @Test
    void toneGivesItsClosedFormLogMel() {
        // A 1 kHz sine at 16 kHz lands exactly on bin 64 of a 1024-point DFT. Hann-windowed, its spectrum is
        // A N / 4 at bin 64 and A N / 8 at bins 63 and 65 (zero elsewhere): 128, 64, 64 for A = 0.5.
        TacotronStft s = TacotronStft.audioLdm();
        float[] x = new float[16000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.5 * Math.sin(2 * Math.PI * 1000 * i / 16000.0));
        }
        float[][] mel = s.logMel(x);
        assertEquals(101, mel.length);
        float[][] w = s.melBasis();
        for (int f = 10; f < 90; f += 13) { // frames away from the reflected edges
            for (int m = 0; m < 64; m++) {
                double e = w[m][63] * 64.0 + w[m][64] * 128.0 + w[m][65] * 64.0;
                double expect = Math.log(Math.max(e, 1e-5));
                // float samples: the sine's own rounding leaks ~1e-5 into other bins
                assertEquals(expect, mel[f][m], e > 1e-3 ? 1e-4 : 0.5, "frame " + f + " band " + m);
            }
        }
    }

    @Test
    void fbankLengthAndLevelRules() {
        TacotronStft s = TacotronStft.audioLdm();
        float[] x = new float[16000 * 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.9 * Math.sin(2 * Math.PI * 440 * i / 16000.0) + 0.1); // DC offset is removed
        }
        float[] n = TacotronStft.normalise(x, 16000);
        double peak = 0;
        double mean = 0;
        for (float v : n) {
            peak = Math.max(peak, Math.abs(v));
            mean += v;
        }
        assertEquals(0.5, peak, 1e-6);
        assertEquals(0, mean / n.length, 1e-3);
        // 1 s of a 2 s clip: 100 frames asked, the STFT gives 101, the extra one is cut
        float[] fb = s.fbank(x, 100);
        assertEquals(100 * 64, fb.length);
        // zero-padded in samples (0.5 s of audio into 1 s): the silent frames clamp at log(1e-5)
        float[] half = java.util.Arrays.copyOf(x, 8000);
        float[] fb2 = s.fbank(half, 100);
        assertEquals((float) Math.log(1e-5), fb2[80 * 64 + 10], 1e-6);
        // frames beyond the STFT's are zeros, as _pad_spec pads them
        float[] fb3 = s.fbank(x, 120); // 1.2 s: 121 frames -> 120, no zero frames
        assertTrue(fb3[119 * 64] != 0);
        assertThrows(IllegalArgumentException.class, () -> TacotronStft.normalise(new float[50], 1000));
        assertThrows(IllegalArgumentException.class, () -> TacotronStft.normalise(new float[500], 1000));
    }
}
