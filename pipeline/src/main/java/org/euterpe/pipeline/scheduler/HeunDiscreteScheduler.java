package org.euterpe.pipeline.scheduler;

/**
 * Heun (diffusers' HeunDiscreteScheduler): a second-order method that evaluates the U-Net twice
 * per sigma interval. The timestep list repeats every timestep but the first, and steps
 * alternate between the Euler predictor and the trapezoid corrector.
 */
public final class HeunDiscreteScheduler extends SigmaScheduler {
    /** Interleaved per-call sigmas: [s0, s1, s1, s2, s2, ..., s_n-1, s_n-1, 0]. */
    private float[] callSigmas = new float[0];
    private float[] callTimesteps = new float[0];
    private float[] prevDerivative;
    private float dt;
    private float[] savedSample;

    public HeunDiscreteScheduler(SchedulerConfig config) {
        super(config);
    }

    @Override
    public void setTimesteps(int n) {
        computeSigmas(n);
        callSigmas = new float[2 * n];
        callSigmas[0] = sigmas[0];
        for (int i = 1; i < n; i++) {
            callSigmas[2 * i - 1] = sigmas[i];
            callSigmas[2 * i] = sigmas[i];
        }
        callSigmas[2 * n - 1] = sigmas[n];
        callTimesteps = new float[2 * n - 1];
        callTimesteps[0] = timesteps[0];
        for (int i = 1; i < n; i++) {
            callTimesteps[2 * i - 1] = timesteps[i];
            callTimesteps[2 * i] = timesteps[i];
        }
        prevDerivative = null;
        savedSample = null;
    }

    @Override
    public double[] timesteps() {
        return widen(callTimesteps);
    }

    @Override
    public float[] sigmas() {
        return callSigmas.clone();
    }

    @Override
    public int order() {
        return 2;
    }

    @Override
    protected float inputSigma(int index) {
        return callSigmas[index];
    }

    @Override
    public float[] scaleModelInput(float[] sample, int index) {
        checkIndex(index, callTimesteps.length);
        float sigma = callSigmas[index];
        float d = sqrt(sigma * sigma + 1);
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sample[i] / d;
        }
        return out;
    }

    @Override
    public float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise) {
        checkIndex(index, callTimesteps.length);
        boolean firstOrder = prevDerivative == null;
        float sigma = firstOrder ? callSigmas[index] : callSigmas[index - 1];
        float sigmaNext = firstOrder ? callSigmas[index + 1] : callSigmas[index];
        float sigmaHat = sigma;
        float[] x0 = predictOriginal(modelOutput, sample, firstOrder ? sigmaHat : sigmaNext);
        if (config.clipSample()) {
            float r = (float) config.clipSampleRange();
            for (int i = 0; i < x0.length; i++) {
                x0[i] = Math.max(-r, Math.min(r, x0[i]));
            }
        }
        int n = sample.length;
        float[] prev = new float[n];
        if (firstOrder) {
            float[] derivative = new float[n];
            for (int i = 0; i < n; i++) {
                derivative[i] = (sample[i] - x0[i]) / sigmaHat;
            }
            dt = sigmaNext - sigmaHat;
            for (int i = 0; i < n; i++) {
                prev[i] = sample[i] + derivative[i] * dt;
            }
            prevDerivative = derivative;
            savedSample = sample;
        } else {
            for (int i = 0; i < n; i++) {
                float d = (sample[i] - x0[i]) / sigmaNext;
                d = (prevDerivative[i] + d) / 2;
                prev[i] = savedSample[i] + d * dt;
            }
            prevDerivative = null;
            savedSample = null;
        }
        return prev;
    }
}
