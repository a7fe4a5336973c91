package org.euterpe.pipeline.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * PNDM (diffusers' PNDMScheduler): Runge-Kutta warm-up steps (unless {@code skip_prk_steps})
 * then linear multistep (PLMS) steps over the remembered model outputs.
 */
public final class PndmScheduler extends Scheduler {
    private static final int PNDM_ORDER = 4;

    private final float finalAlphaCumprod;
    private int[] prkTimesteps = new int[0];
    private int[] timesteps = new int[0];
    private final List<float[]> ets = new ArrayList<>();
    private float[] curModelOutput;
    private float[] curSample;
    private int counter;

    public PndmScheduler(SchedulerConfig config) {
        super(config);
        this.finalAlphaCumprod = config.setAlphaToOne() ? 1f : alphasCumprod[0];
    }

    @Override
    public void setTimesteps(int n) {
        checkSteps(n);
        // The reference builds an ascending list first.
        double[] desc = spacedTimesteps(n);
        int[] asc = new int[n];
        for (int i = 0; i < n; i++) {
            asc[i] = (int) Math.rint(desc[n - 1 - i]);
        }
        int[] plms;
        if (config.skipPrkSteps()) {
            prkTimesteps = new int[0];
            // asc[:-1] + asc[-2:-1] + asc[-1:], reversed: the second-to-last step is taken twice.
            int[] p = new int[n + 1];
            System.arraycopy(asc, 0, p, 0, n - 1);
            p[n - 1] = n >= 2 ? asc[n - 2] : asc[0];
            p[n] = asc[n - 1];
            if (n == 1) {
                p = new int[] {asc[0]};
            }
            plms = reverse(p);
        } else {
            if (n < PNDM_ORDER) {
                throw new IllegalArgumentException("PNDM with PRK warm-up needs at least " + PNDM_ORDER + " steps");
            }
            int half = config.numTrainTimesteps() / n / 2;
            int[] pairs = new int[2 * PNDM_ORDER];
            for (int i = 0; i < PNDM_ORDER; i++) {
                int t = asc[n - PNDM_ORDER + i];
                pairs[2 * i] = t;
                pairs[2 * i + 1] = t + half;
            }
            // prk[:-1].repeat(2)[1:-1], reversed
            int m = pairs.length - 1;
            int[] rep = new int[2 * m];
            for (int i = 0; i < m; i++) {
                rep[2 * i] = pairs[i];
                rep[2 * i + 1] = pairs[i];
            }
            int[] trimmed = java.util.Arrays.copyOfRange(rep, 1, rep.length - 1);
            prkTimesteps = reverse(trimmed);
            plms = reverse(java.util.Arrays.copyOfRange(asc, 0, n - 3));
        }
        timesteps = new int[prkTimesteps.length + plms.length];
        System.arraycopy(prkTimesteps, 0, timesteps, 0, prkTimesteps.length);
        System.arraycopy(plms, 0, timesteps, prkTimesteps.length, plms.length);
        ets.clear();
        counter = 0;
        curModelOutput = null;
        curSample = null;
    }

    private static int[] reverse(int[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[a.length - 1 - i];
        }
        return r;
    }

    @Override
    public double[] timesteps() {
        return widen(timesteps);
    }

    @Override
    public boolean integerTimesteps() {
        return true;
    }

    @Override
    public float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise) {
        checkIndex(index, timesteps.length);
        int t = timesteps[index];
        float[] prev = counter < prkTimesteps.length && !config.skipPrkSteps()
                ? stepPrk(modelOutput, t, sample)
                : stepPlms(modelOutput, t, sample);
        counter++;
        return prev;
    }

    private float[] stepPrk(float[] modelOutput, int timestep, float[] sample) {
        int diffToPrev = counter % 2 != 0 ? 0 : config.numTrainTimesteps() / numInferenceSteps / 2;
        int prevT = timestep - diffToPrev;
        int t = prkTimesteps[counter / 4 * 4];
        float[] mo = modelOutput;
        switch (counter % 4) {
            case 0 -> {
                curModelOutput = scaled(1.0f / 6, modelOutput, null);
                ets.add(modelOutput);
                curSample = sample;
            }
            case 1, 2 -> curModelOutput = scaled(1.0f / 3, modelOutput, curModelOutput);
            default -> {
                mo = scaled(1.0f / 6, modelOutput, curModelOutput);
                curModelOutput = null;
            }
        }
        float[] cur = curSample != null ? curSample : sample;
        return prevSample(cur, t, prevT, mo);
    }

    /** {@code acc + c * x} (or {@code c * x} when acc is null), in float32. */
    private static float[] scaled(float c, float[] x, float[] acc) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            float v = c * x[i];
            out[i] = acc == null ? v : acc[i] + v;
        }
        return out;
    }

    private float[] stepPlms(float[] modelOutput, int timestep, float[] sample) {
        int ratio = config.numTrainTimesteps() / numInferenceSteps;
        int t = timestep;
        int prevT = t - ratio;
        if (counter != 1) {
            while (ets.size() > 3) {
                ets.remove(0);
            }
            ets.add(modelOutput);
        } else {
            prevT = t;
            t = t + ratio;
        }
        int n = modelOutput.length;
        float[] mo = new float[n];
        float[] smp = sample;
        int k = ets.size();
        if (k == 1 && counter == 0) {
            mo = modelOutput;
            curSample = sample;
        } else if (k == 1 && counter == 1) {
            float[] e1 = ets.get(0);
            for (int i = 0; i < n; i++) {
                mo[i] = (modelOutput[i] + e1[i]) / 2;
            }
            smp = curSample;
            curSample = null;
        } else if (k == 2) {
            float[] e1 = ets.get(1);
            float[] e2 = ets.get(0);
            for (int i = 0; i < n; i++) {
                mo[i] = (3 * e1[i] - e2[i]) / 2;
            }
        } else if (k == 3) {
            float[] e1 = ets.get(2);
            float[] e2 = ets.get(1);
            float[] e3 = ets.get(0);
            for (int i = 0; i < n; i++) {
                mo[i] = (23 * e1[i] - 16 * e2[i] + 5 * e3[i]) / 12;
            }
        } else {
            float[] e1 = ets.get(3);
            float[] e2 = ets.get(2);
            float[] e3 = ets.get(1);
            float[] e4 = ets.get(0);
            float c = 1.0f / 24;
            for (int i = 0; i < n; i++) {
                mo[i] = c * (55 * e1[i] - 59 * e2[i] + 37 * e3[i] - 9 * e4[i]);
            }
        }
        return prevSample(smp, t, prevT, mo);
    }

    /** Formula (9) of the PNDM paper, in the reference's float32 op order. */
    private float[] prevSample(float[] sample, int t, int prevT, float[] modelOutput) {
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
        float betaProdT = 1 - alphaProdT;
        float betaProdTPrev = 1 - alphaProdTPrev;
        float[] mo = modelOutput;
        if (config.predictionType().equals("v_prediction")) {
            float sa = sqrt(alphaProdT);
            float sb = sqrt(betaProdT);
            mo = new float[sample.length];
            for (int i = 0; i < mo.length; i++) {
                mo[i] = sa * modelOutput[i] + sb * sample[i];
            }
        } else if (!config.predictionType().equals("epsilon")) {
            throw new IllegalArgumentException("PNDM supports prediction_type epsilon and v_prediction, not "
                    + config.predictionType());
        }
        float sampleCoeff = sqrt(alphaProdTPrev / alphaProdT);
        float denom = alphaProdT * sqrt(betaProdTPrev) + sqrt(alphaProdT * betaProdT * alphaProdTPrev);
        float diff = alphaProdTPrev - alphaProdT;
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sampleCoeff * sample[i] - diff * mo[i] / denom;
        }
        return out;
    }
}
