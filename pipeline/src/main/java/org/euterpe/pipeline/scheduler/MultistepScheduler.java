package org.euterpe.pipeline.scheduler;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The multistep solvers of the VP schedule (DPM-Solver, UniPC): they step between integer
 * training timesteps in {@code lambda = log(alpha_t / sigma_t)}, with
 * {@code alpha_t = sqrt(alphaCumprod)} and {@code sigma_t = sqrt(1 - alphaCumprod)}, and call
 * the U-Net on the unscaled sample.
 */
abstract class MultistepScheduler extends Scheduler {
    /** Per training timestep, float32 as the reference's tensors, {@code [num_train_timesteps]}. */
    protected final float[] alphaT;
    protected final float[] sigmaT;
    protected final float[] lambdaT;
    protected int[] timesteps = new int[0];
    /** The training-schedule sigmas, or the Karras ones after {@link #computeTimesteps} with Karras. */
    private float[] sigmas;

    MultistepScheduler(SchedulerConfig config) {
        super(config);
        int n = alphasCumprod.length;
        alphaT = new float[n];
        sigmaT = new float[n];
        lambdaT = new float[n];
        for (int i = 0; i < n; i++) {
            alphaT[i] = sqrt(alphasCumprod[i]);
            sigmaT[i] = sqrt(1 - alphasCumprod[i]);
            lambdaT[i] = (float) Math.log(alphaT[i]) - (float) Math.log(sigmaT[i]);
        }
        sigmas = trainingSigmas();
    }

    /**
     * Sets {@link #timesteps} (and {@link #numInferenceSteps}) for {@code n} steps of the
     * configured spacing over the training timesteps below {@code last}, or of Karras sigmas;
     * duplicates are dropped, keeping the first.
     */
    protected void computeTimesteps(int n, int last) {
        checkSteps(n);
        int train = config.numTrainTimesteps();
        long[] ts;
        switch (config.timestepSpacing()) {
            case "linspace" -> {
                ts = new long[n];
                double step = (double) (last - 1) / n;
                for (int i = 0; i < n; i++) {
                    ts[i] = (long) Math.rint((n - i) * step); // linspace(0, last-1, n+1) reversed, minus its 0
                }
                ts[0] = last - 1;
            }
            case "leading" -> {
                int ratio = last / (n + 1);
                ts = new long[n];
                for (int i = 0; i < n; i++) {
                    ts[i] = (long) (n - i) * ratio + config.stepsOffset();
                }
            }
            default -> { // trailing
                double ratio = (double) train / n;
                int count = (int) Math.ceil(last / ratio);
                ts = new long[count];
                for (int i = 0; i < count; i++) {
                    ts[i] = (long) Math.rint(last - i * ratio) - 1;
                }
            }
        }
        if (config.useKarrasSigmas()) {
            float[] trainSigmas = trainingSigmas();
            double[] logSigmas = new double[trainSigmas.length];
            for (int i = 0; i < logSigmas.length; i++) {
                logSigmas[i] = Math.log(trainSigmas[i]);
            }
            // The reference feeds the whole training schedule to the Karras conversion.
            double[] k = SigmaScheduler.karras(trainSigmas[trainSigmas.length - 1], trainSigmas[0], n);
            ts = new long[n];
            for (int i = 0; i < n; i++) {
                ts[n - 1 - i] = (long) Math.rint(SigmaScheduler.sigmaToT(k[i], logSigmas));
            }
            sigmas = new float[n];
            for (int i = 0; i < n; i++) {
                sigmas[i] = (float) k[i];
            }
        } else {
            sigmas = trainingSigmas();
        }
        Set<Long> seen = new LinkedHashSet<>();
        for (long t : ts) {
            seen.add(t);
        }
        timesteps = seen.stream().mapToInt(Long::intValue).toArray();
        numInferenceSteps = timesteps.length;
    }

    private float[] trainingSigmas() {
        float[] s = new float[alphasCumprod.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = sqrt((1 - alphasCumprod[i]) / alphasCumprod[i]);
        }
        return s;
    }

    @Override
    public double[] timesteps() {
        return widen(timesteps);
    }

    @Override
    public boolean integerTimesteps() {
        return true;
    }

    /** The reference keeps the training-schedule sigmas here (see FORMAT.md: length 1000). */
    @Override
    public float[] sigmas() {
        return sigmas.clone();
    }

    /** The timestep after step {@code index}: the next one, or 0 after the last. */
    protected int nextTimestep(int index) {
        return index == timesteps.length - 1 ? 0 : timesteps[index + 1];
    }

    /** Float32 exp, as torch's. */
    protected static float exp(float x) {
        return (float) Math.exp(x);
    }

    /**
     * The model output as a data prediction x0 ({@code dataPrediction}: DPM-Solver++, UniPC's
     * predict_x0) or as a noise prediction, for the configured prediction type, in float32.
     */
    protected float[] convertModelOutput(float[] mo, int t, float[] sample, boolean dataPrediction) {
        float a = alphaT[t];
        float s = sigmaT[t];
        String pt = config.predictionType();
        float[] out = new float[mo.length];
        for (int i = 0; i < out.length; i++) {
            if (dataPrediction) {
                out[i] = switch (pt) {
                    case "epsilon" -> (sample[i] - s * mo[i]) / a;
                    case "sample" -> mo[i];
                    default -> a * sample[i] - s * mo[i];
                };
            } else {
                out[i] = switch (pt) {
                    case "epsilon" -> mo[i];
                    case "sample" -> (sample[i] - a * mo[i]) / s;
                    default -> a * mo[i] + s * sample[i];
                };
            }
        }
        return out;
    }
}
