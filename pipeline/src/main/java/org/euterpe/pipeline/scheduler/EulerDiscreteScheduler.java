package org.euterpe.pipeline.scheduler;

/** Euler (diffusers' EulerDiscreteScheduler, no churn): first-order steps in sigma. */
public final class EulerDiscreteScheduler extends SigmaScheduler {
    public EulerDiscreteScheduler(SchedulerConfig config) {
        super(config);
        if (!config.interpolationType().equals("linear")) {
            throw new IllegalArgumentException("unsupported interpolation_type " + config.interpolationType());
        }
    }

    @Override
    public void setTimesteps(int n) {
        computeSigmas(n);
    }

    @Override
    public float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise) {
        checkIndex(index, timesteps.length);
        float sigma = sigmas[index];
        float sigmaHat = sigma; // s_churn = 0: gamma = 0
        float[] x0 = predictOriginal(modelOutput, sample, sigmaHat);
        float dt = sigmas[index + 1] - sigmaHat;
        float[] prev = new float[sample.length];
        for (int i = 0; i < prev.length; i++) {
            float derivative = (sample[i] - x0[i]) / sigmaHat;
            prev[i] = sample[i] + derivative * dt;
        }
        return prev;
    }
}
