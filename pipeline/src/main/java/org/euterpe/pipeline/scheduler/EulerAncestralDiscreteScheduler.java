package org.euterpe.pipeline.scheduler;

/** Euler ancestral (diffusers' EulerAncestralDiscreteScheduler): an Euler step to sigma_down plus fresh noise. */
public final class EulerAncestralDiscreteScheduler extends SigmaScheduler {
    public EulerAncestralDiscreteScheduler(SchedulerConfig config) {
        super(config);
    }

    @Override
    public void setTimesteps(int n) {
        boolean karras = config.useKarrasSigmas();
        if (karras) {
            throw new IllegalArgumentException("Euler ancestral does not support Karras sigmas in the reference");
        }
        computeSigmas(n);
    }

    @Override
    public float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise) {
        checkIndex(index, timesteps.length);
        if (noise == null) {
            throw new IllegalStateException("Euler ancestral needs a noise source");
        }
        float sigma = sigmas[index];
        float[] x0 = predictOriginal(modelOutput, sample, sigma);
        float from = sigmas[index];
        float to = sigmas[index + 1];
        float sigmaUp = sqrt(to * to * (from * from - to * to) / (from * from));
        float sigmaDown = sqrt(to * to - sigmaUp * sigmaUp);
        float dt = sigmaDown - sigma;
        float[] z = noise.next(sample.length);
        float[] prev = new float[sample.length];
        for (int i = 0; i < prev.length; i++) {
            float derivative = (sample[i] - x0[i]) / sigma;
            float p = sample[i] + derivative * dt;
            prev[i] = p + z[i] * sigmaUp;
        }
        return prev;
    }
}
