package org.euterpe.pipeline.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' {@code IPNDMScheduler} (Dance Diffusion): the "crash" schedule and a fourth-order
 * improved pseudo-linear multistep on the noise prediction derived from the model's v-output.
 * See {@code FORMAT-DANCE.md} section 4.
 *
 * <pre>
 *   t_linear  = [linspace(1, 0, n+1)[:-1], 0]
 *   betas     = sin(t_linear * pi / 2)^2          (= sigma: the noise scale, despite the name)
 *   alphas    = sqrt(1 - betas^2)                 (= alpha: the signal scale)
 *   timesteps = (atan2(betas, alphas) / pi * 2)[:-1]   model times in [0, 1], not scaled
 *   step k:  e_k = x sigma_k + v alpha_k;  e = Adams-Bashforth of e_k.. (orders 1, 2, 3, then 4)
 *            pred = (x - sigma_k e) / max(alpha_k, 1e-8);  x' = alpha_{k+1} pred + sigma_{k+1} e
 * </pre>
 * All arithmetic is float32 in the reference's op order. Samples are flat host arrays: a step is
 * a few passes over {@code batch * channels * length} values.
 */
public final class IpndmScheduler {
    private float[] tLinear;
    private float[] betas;
    private float[] alphas;
    private float[] timesteps;
    private final List<float[]> ets = new ArrayList<>();
    private int stepIndex;

    /** The schedule for {@code n} steps; resets the multistep history. */
    public void setTimesteps(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + n);
        }
        tLinear = new float[n + 1];
        float[] lin = linspace(1f, 0f, n + 1);
        System.arraycopy(lin, 0, tLinear, 0, n);
        tLinear[n] = 0f;
        betas = new float[n + 1];
        alphas = new float[n + 1];
        float pi = (float) Math.PI;
        for (int i = 0; i <= n; i++) {
            float s = (float) Math.sin(tLinear[i] * pi / 2f);
            betas[i] = s * s;
            alphas[i] = (float) Math.sqrt(1f - betas[i] * betas[i]);
        }
        timesteps = new float[n];
        for (int i = 0; i < n; i++) {
            timesteps[i] = (float) Math.atan2(betas[i], alphas[i]) / pi * 2f;
        }
        ets.clear();
        stepIndex = 0;
    }

    /**
     * torch's float32 {@code linspace}: the first half counts up from {@code start}, the second
     * half down from {@code end}, so both ends are exact.
     */
    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        }
        return out;
    }

    public float[] tLinear() {
        return tLinear.clone();
    }

    /** sigma per index, {@code n + 1} values. */
    public float[] betas() {
        return betas.clone();
    }

    /** alpha per index, {@code n + 1} values. */
    public float[] alphas() {
        return alphas.clone();
    }

    /** The model times, {@code n} values from 1 down. */
    public float[] timesteps() {
        return timesteps.clone();
    }

    /** The index of the next {@link #step}. */
    public int stepIndex() {
        return stepIndex;
    }

    /**
     * Replaces the schedule with recorded tables (open-loop checks feed the reference's own
     * float32 values) and resets the history.
     */
    public void setSchedule(float[] betas, float[] alphas, float[] timesteps) {
        if (betas.length != alphas.length || timesteps.length != betas.length - 1) {
            throw new IllegalArgumentException("schedule needs n + 1 betas and alphas and n timesteps, got "
                    + betas.length + ", " + alphas.length + ", " + timesteps.length);
        }
        this.betas = betas.clone();
        this.alphas = alphas.clone();
        this.timesteps = timesteps.clone();
        ets.clear();
        stepIndex = 0;
    }

    /** Seeds the history with earlier {@code e_k} (oldest first) and sets the next step index. */
    public void setHistory(List<float[]> history, int index) {
        ets.clear();
        ets.addAll(history);
        stepIndex = index;
    }

    /**
     * One step at index {@link #stepIndex()}: the sample for the next index.
     *
     * @param modelOutput the U-Net's v-prediction at {@code timesteps()[stepIndex()]}
     */
    public float[] step(float[] modelOutput, float[] sample) {
        if (timesteps == null) {
            throw new IllegalStateException("setTimesteps was not called");
        }
        if (stepIndex >= timesteps.length) {
            throw new IllegalStateException("all " + timesteps.length + " steps are done");
        }
        if (modelOutput.length != sample.length) {
            throw new IllegalArgumentException("model output of " + modelOutput.length + " values for a sample of "
                    + sample.length);
        }
        int k = stepIndex;
        float sigma = betas[k];
        float alpha = alphas[k];
        int n = sample.length;
        float[] ek = new float[n];
        for (int i = 0; i < n; i++) {
            ek[i] = sample[i] * sigma + modelOutput[i] * alpha;
        }
        ets.add(ek);
        int h = ets.size();
        float[] e;
        if (h == 1) {
            e = ek;
        } else if (h == 2) {
            float[] e1 = ets.get(h - 2);
            e = new float[n];
            for (int i = 0; i < n; i++) {
                e[i] = (3f * ek[i] - e1[i]) / 2f;
            }
        } else if (h == 3) {
            float[] e1 = ets.get(h - 2);
            float[] e2 = ets.get(h - 3);
            e = new float[n];
            for (int i = 0; i < n; i++) {
                e[i] = (23f * ek[i] - 16f * e1[i] + 5f * e2[i]) / 12f;
            }
        } else {
            float[] e1 = ets.get(h - 2);
            float[] e2 = ets.get(h - 3);
            float[] e3 = ets.get(h - 4);
            float c = (float) (1.0 / 24);
            e = new float[n];
            for (int i = 0; i < n; i++) {
                e[i] = c * (55f * ek[i] - 59f * e1[i] + 37f * e2[i] - 9f * e3[i]);
            }
            ets.remove(0); // only the last four are ever read
        }
        float nextAlpha = alphas[k + 1];
        float nextSigma = betas[k + 1];
        float div = Math.max(alpha, 1e-8f);
        float[] prev = new float[n];
        for (int i = 0; i < n; i++) {
            float pred = (sample[i] - sigma * e[i]) / div;
            prev[i] = nextAlpha * pred + e[i] * nextSigma;
        }
        stepIndex++;
        return prev;
    }
}
