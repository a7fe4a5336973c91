package org.euterpe.pipeline.scheduler;

/** DDIM (diffusers' DDIMScheduler): deterministic at eta 0, stochastic above. */
public final class DdimScheduler extends Scheduler {
    private final float finalAlphaCumprod;
    private int[] timesteps = new int[0];
    private float eta;

    public DdimScheduler(SchedulerConfig config) {
        super(config);
        this.finalAlphaCumprod = config.setAlphaToOne() ? 1f : alphasCumprod[0];
    }

    /** The stochasticity: 0 is deterministic DDIM, 1 is DDPM-like. Noise is drawn when eta > 0. */
    public void setEta(float eta) {
        if (!(eta >= 0)) {
            throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        }
        this.eta = eta;
    }

    @Override
    public void setTimesteps(int n) {
        checkSteps(n);
        double[] t = spacedTimesteps(n);
        timesteps = new int[n];
        for (int i = 0; i < n; i++) {
            timesteps[i] = (int) Math.rint(t[i]);
        }
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
        int prevT = t - config.numTrainTimesteps() / numInferenceSteps;
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
        float betaProdT = 1 - alphaProdT;
        float sqrtAlpha = sqrt(alphaProdT);
        float sqrtBeta = sqrt(betaProdT);

        int n = sample.length;
        float[] x0 = new float[n];
        float[] eps = new float[n];
        for (int i = 0; i < n; i++) {
            switch (config.predictionType()) {
                case "epsilon" -> {
                    x0[i] = (sample[i] - sqrtBeta * modelOutput[i]) / sqrtAlpha;
                    eps[i] = modelOutput[i];
                }
                case "sample" -> {
                    x0[i] = modelOutput[i];
                    eps[i] = (sample[i] - sqrtAlpha * x0[i]) / sqrtBeta;
                }
                default -> { // v_prediction
                    x0[i] = sqrtAlpha * sample[i] - sqrtBeta * modelOutput[i];
                    eps[i] = sqrtAlpha * modelOutput[i] + sqrtBeta * sample[i];
                }
            }
            if (config.clipSample()) {
                float r = (float) config.clipSampleRange();
                x0[i] = Math.max(-r, Math.min(r, x0[i]));
            }
        }
        float betaProdTPrev = 1 - alphaProdTPrev;
        float variance = (betaProdTPrev / betaProdT) * (1 - alphaProdT / alphaProdTPrev);
        float stdDev = eta * sqrt(variance);
        float dirCoeff = sqrt(1 - alphaProdTPrev - stdDev * stdDev);
        float sqrtAlphaPrev = sqrt(alphaProdTPrev);
        float[] prev = new float[n];
        for (int i = 0; i < n; i++) {
            prev[i] = sqrtAlphaPrev * x0[i] + dirCoeff * eps[i];
        }
        if (eta > 0) {
            if (noise == null) {
                throw new IllegalStateException("DDIM with eta > 0 needs a noise source");
            }
            float[] z = noise.next(n);
            for (int i = 0; i < n; i++) {
                prev[i] = prev[i] + stdDev * z[i];
            }
        }
        return prev;
    }
}
