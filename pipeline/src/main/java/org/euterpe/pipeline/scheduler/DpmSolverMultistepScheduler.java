package org.euterpe.pipeline.scheduler;

import java.util.Set;

/**
 * DPM-Solver (diffusers' DPMSolverMultistepScheduler), multistep, orders 1 to 3; with the
 * defaults (dpmsolver++, order 2, midpoint) this is DPM-Solver++ 2M. Works in
 * {@code lambda = log(alpha_t / sigma_t)} and remembers the last converted model outputs.
 */
public final class DpmSolverMultistepScheduler extends MultistepScheduler {
    private float[][] modelOutputs;
    private int lowerOrderNums;

    public DpmSolverMultistepScheduler(SchedulerConfig config) {
        super(config);
        if (!Set.of("dpmsolver++", "dpmsolver").contains(config.algorithmType())) {
            throw new IllegalArgumentException("unsupported algorithm_type " + config.algorithmType()
                    + " (supported: dpmsolver++, dpmsolver)");
        }
        if (!Set.of("midpoint", "heun").contains(config.solverType())) {
            throw new IllegalArgumentException("unsupported solver_type " + config.solverType());
        }
        if (config.solverOrder() < 1 || config.solverOrder() > 3) {
            throw new IllegalArgumentException("solver_order must be 1, 2 or 3, got " + config.solverOrder());
        }
    }

    @Override
    public void setTimesteps(int n) {
        int train = config.numTrainTimesteps();
        // searchsorted(flip(lambda_t), lambda_min_clipped): lambda decreases with t.
        int clipped = 0;
        while (clipped < train && lambdaT[train - 1 - clipped] < config.lambdaMinClipped()) {
            clipped++;
        }
        computeTimesteps(n, train - clipped);
        modelOutputs = new float[config.solverOrder()][];
        lowerOrderNums = 0;
    }

    @Override
    public float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise) {
        checkIndex(index, timesteps.length);
        int t = timesteps[index];
        int len = timesteps.length;
        int prevT = nextTimestep(index);
        boolean lowerFinal = index == len - 1 && config.lowerOrderFinal() && len < 15;
        boolean lowerSecond = index == len - 2 && config.lowerOrderFinal() && len < 15;

        float[] converted = convertModelOutput(modelOutput, t, sample, config.algorithmType().equals("dpmsolver++"));
        int order = config.solverOrder();
        for (int i = 0; i < order - 1; i++) {
            modelOutputs[i] = modelOutputs[i + 1];
        }
        modelOutputs[order - 1] = converted;

        float[] prev;
        if (order == 1 || lowerOrderNums < 1 || lowerFinal) {
            prev = firstOrder(converted, t, prevT, sample);
        } else if (order == 2 || lowerOrderNums < 2 || lowerSecond) {
            prev = secondOrder(timesteps[index - 1], t, prevT, sample);
        } else {
            prev = thirdOrder(timesteps[index - 2], timesteps[index - 1], t, prevT, sample);
        }
        if (lowerOrderNums < order) {
            lowerOrderNums++;
        }
        return prev;
    }

    private float[] firstOrder(float[] m, int s0, int t, float[] sample) {
        float h = lambdaT[t] - lambdaT[s0];
        float[] out = new float[sample.length];
        if (config.algorithmType().equals("dpmsolver++")) {
            float c1 = sigmaT[t] / sigmaT[s0];
            float c2 = alphaT[t] * (exp(-h) - 1.0f);
            for (int i = 0; i < out.length; i++) {
                out[i] = c1 * sample[i] - c2 * m[i];
            }
        } else {
            float c1 = alphaT[t] / alphaT[s0];
            float c2 = sigmaT[t] * (exp(h) - 1.0f);
            for (int i = 0; i < out.length; i++) {
                out[i] = c1 * sample[i] - c2 * m[i];
            }
        }
        return out;
    }

    private float[] secondOrder(int s1, int s0, int t, float[] sample) {
        float[] m0 = modelOutputs[modelOutputs.length - 1];
        float[] m1 = modelOutputs[modelOutputs.length - 2];
        float h = lambdaT[t] - lambdaT[s0];
        float h0 = lambdaT[s0] - lambdaT[s1];
        float r0 = h0 / h;
        float invR0 = 1.0f / r0;
        int n = sample.length;
        float[] out = new float[n];
        boolean plusPlus = config.algorithmType().equals("dpmsolver++");
        boolean midpoint = config.solverType().equals("midpoint");
        float c1;
        float c2;
        float c3;
        if (plusPlus) {
            c1 = sigmaT[t] / sigmaT[s0];
            c2 = alphaT[t] * (exp(-h) - 1.0f);
            c3 = midpoint ? 0.5f * c2 : alphaT[t] * ((exp(-h) - 1.0f) / h + 1.0f);
        } else {
            c1 = alphaT[t] / alphaT[s0];
            c2 = sigmaT[t] * (exp(h) - 1.0f);
            c3 = midpoint ? 0.5f * c2 : sigmaT[t] * ((exp(h) - 1.0f) / h - 1.0f);
        }
        for (int i = 0; i < n; i++) {
            float d0 = m0[i];
            float d1 = invR0 * (m0[i] - m1[i]);
            // dpmsolver++/heun adds the D1 term; every other variant subtracts it.
            out[i] = plusPlus && !midpoint
                    ? c1 * sample[i] - c2 * d0 + c3 * d1
                    : c1 * sample[i] - c2 * d0 - c3 * d1;
        }
        return out;
    }

    private float[] thirdOrder(int s2, int s1, int s0, int t, float[] sample) {
        float[] m0 = modelOutputs[2];
        float[] m1 = modelOutputs[1];
        float[] m2 = modelOutputs[0];
        float h = lambdaT[t] - lambdaT[s0];
        float h0 = lambdaT[s0] - lambdaT[s1];
        float h1 = lambdaT[s1] - lambdaT[s2];
        float r0 = h0 / h;
        float r1 = h1 / h;
        float invR0 = 1.0f / r0;
        float invR1 = 1.0f / r1;
        float w = r0 / (r0 + r1);
        float invSum = 1.0f / (r0 + r1);
        boolean plusPlus = config.algorithmType().equals("dpmsolver++");
        float c1;
        float c2;
        float c3;
        float c4;
        if (plusPlus) {
            float e = exp(-h) - 1.0f;
            c1 = sigmaT[t] / sigmaT[s0];
            c2 = alphaT[t] * e;
            c3 = alphaT[t] * (e / h + 1.0f);
            c4 = alphaT[t] * ((e + h) / (h * h) - 0.5f);
        } else {
            float e = exp(h) - 1.0f;
            c1 = alphaT[t] / alphaT[s0];
            c2 = sigmaT[t] * e;
            c3 = sigmaT[t] * (e / h - 1.0f);
            c4 = sigmaT[t] * ((e - h) / (h * h) - 0.5f);
        }
        int n = sample.length;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float d10 = invR0 * (m0[i] - m1[i]);
            float d11 = invR1 * (m1[i] - m2[i]);
            float d1 = d10 + w * (d10 - d11);
            float d2 = invSum * (d10 - d11);
            out[i] = plusPlus
                    ? c1 * sample[i] - c2 * m0[i] + c3 * d1 - c4 * d2
                    : c1 * sample[i] - c2 * m0[i] - c3 * d1 - c4 * d2;
        }
        return out;
    }
}
