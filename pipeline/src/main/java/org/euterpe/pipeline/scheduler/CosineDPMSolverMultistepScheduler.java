package org.euterpe.pipeline.scheduler;

import java.util.Map;
import java.util.Set;

import org.euterpe.tensor.json.JsonObject;

/**
 * diffusers' {@code CosineDPMSolverMultistepScheduler} (Stable Audio's sampler): an exponential (or Karras)
 * sigma schedule from {@code sigma_max} down to {@code sigma_min} then 0, timesteps {@code atan(σ)·2/π},
 * EDM preconditioning of a v-prediction model, and the stochastic DPM-Solver++ (second order, midpoint or
 * Heun), first order on the first step and on the last (with {@code final_sigmas_type = zero}).
 *
 * <p>Each step adds Gaussian noise of unit variance that the caller supplies ({@link NoiseSource}): in
 * diffusers it comes from torchsde's Brownian tree; conformance replays the recorded draws, normal use
 * draws seeded noise. The arithmetic is float32 in the reference's order (0-d tensors for the
 * coefficients), so a replayed step agrees with diffusers to float rounding.
 */
public final class CosineDPMSolverMultistepScheduler {
    private static final Set<String> KEYS = Set.of("sigma_min", "sigma_max", "sigma_data", "sigma_schedule",
            "num_train_timesteps", "solver_order", "prediction_type", "rho", "solver_type", "lower_order_final",
            "euler_at_final", "final_sigmas_type", "_class_name", "_diffusers_version");

    private final double sigmaMin;
    private final double sigmaMax;
    private final String sigmaSchedule;
    private final String predictionType;
    private final String solverType;
    private final String finalSigmasType;
    private final double sigmaData;
    private final boolean karras;
    private final double rho;
    private final int solverOrder;
    private final boolean vPrediction;
    private final boolean midpoint;
    private final boolean lowerOrderFinal;
    private final boolean eulerAtFinal;
    private final boolean finalSigmaZero;

    private float[] sigmas;
    private double[] timesteps;
    private float[][] modelOutputs;
    private int lowerOrderNums;
    private int stepIndex;

    public CosineDPMSolverMultistepScheduler(double sigmaMin, double sigmaMax, double sigmaData, String sigmaSchedule,
            int solverOrder, String predictionType, double rho, String solverType, boolean lowerOrderFinal,
            boolean eulerAtFinal, String finalSigmasType) {
        if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !(sigmaData > 0)) {
            throw new IllegalArgumentException("need 0 < sigma_min < sigma_max and sigma_data > 0, got " + sigmaMin
                    + ", " + sigmaMax + ", " + sigmaData);
        }
        this.sigmaMin = sigmaMin;
        this.sigmaMax = sigmaMax;
        this.sigmaSchedule = sigmaSchedule;
        this.predictionType = predictionType;
        this.solverType = solverType;
        this.finalSigmasType = finalSigmasType;
        this.sigmaData = sigmaData;
        this.karras = switch (sigmaSchedule) {
            case "exponential" -> false;
            case "karras" -> true;
            default -> throw new IllegalArgumentException("unsupported sigma_schedule \"" + sigmaSchedule
                    + "\" (exponential or karras)");
        };
        if (solverOrder != 1 && solverOrder != 2) {
            throw new IllegalArgumentException("unsupported solver_order " + solverOrder + " (1 or 2)");
        }
        this.solverOrder = solverOrder;
        this.vPrediction = switch (predictionType) {
            case "v_prediction" -> true;
            case "epsilon" -> false;
            default -> throw new IllegalArgumentException("unsupported prediction_type \"" + predictionType
                    + "\" (v_prediction or epsilon)");
        };
        this.rho = rho;
        this.midpoint = switch (solverType) {
            case "midpoint", "logrho", "bh1", "bh2" -> true; // diffusers maps the last three to midpoint
            case "heun" -> false;
            default -> throw new IllegalArgumentException("unsupported solver_type \"" + solverType
                    + "\" (midpoint or heun)");
        };
        this.lowerOrderFinal = lowerOrderFinal;
        this.eulerAtFinal = eulerAtFinal;
        this.finalSigmaZero = switch (finalSigmasType) {
            case "zero" -> true;
            case "sigma_min" -> false;
            default -> throw new IllegalArgumentException("unsupported final_sigmas_type \"" + finalSigmasType
                    + "\" (zero or sigma_min)");
        };
    }

    /**
     * From {@code scheduler/scheduler_config.json} (diffusers' defaults for absent keys).
     *
     * @throws IllegalArgumentException naming an unknown key or an unsupported value
     */
    public static CosineDPMSolverMultistepScheduler fromConfig(JsonObject c) {
        for (String k : c.map().keySet()) {
            if (!KEYS.contains(k)) {
                throw new IllegalArgumentException(c.context() + ": unknown scheduler config key \"" + k + "\"");
            }
        }
        Map<String, Object> m = c.map();
        return new CosineDPMSolverMultistepScheduler(num(m, "sigma_min", 0.3), num(m, "sigma_max", 500),
                num(m, "sigma_data", 1.0), str(m, "sigma_schedule", "exponential"),
                (int) num(m, "solver_order", 2), str(m, "prediction_type", "v_prediction"), num(m, "rho", 7.0),
                str(m, "solver_type", "midpoint"), bool(m, "lower_order_final", true), bool(m, "euler_at_final", false),
                str(m, "final_sigmas_type", "zero"));
    }

    private static double num(Map<String, Object> m, String k, double d) {
        Object v = m.get(k);
        if (v == null) {
            return d;
        }
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("scheduler config: " + k + " should be a number, got " + v);
        }
        return n.doubleValue();
    }

    private static String str(Map<String, Object> m, String k, String d) {
        Object v = m.get(k);
        if (v == null) {
            return d;
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("scheduler config: " + k + " should be a string, got " + v);
        }
        return s;
    }

    private static boolean bool(Map<String, Object> m, String k, boolean d) {
        Object v = m.get(k);
        if (v == null) {
            return d;
        }
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException("scheduler config: " + k + " should be true or false, got " + v);
        }
        return b;
    }

    /** {@code (σ_max² + 1)^½}, the scale of the initial noise (a double, as the reference's property). */
    public double initNoiseSigma() {
        return Math.sqrt(sigmaMax * sigmaMax + 1);
    }

    public double sigmaMax() {
        return sigmaMax;
    }

    /**
     * This sampler with the schedule starting at {@code sigma} instead of {@code sigma_max}
     * (stable-audio-tools' {@code init_noise_level} for audio-to-audio).
     *
     * @throws IllegalArgumentException unless {@code sigma_min < sigma}
     */
    public CosineDPMSolverMultistepScheduler withSigmaMax(double sigma) {
        if (!(sigma > sigmaMin)) {
            throw new IllegalArgumentException("init noise level " + sigma + " must be above sigma_min " + sigmaMin);
        }
        return new CosineDPMSolverMultistepScheduler(sigmaMin, sigma, sigmaData, sigmaSchedule, solverOrder,
                predictionType, rho, solverType, lowerOrderFinal, eulerAtFinal, finalSigmasType);
    }

    /** Prepares {@code n} steps and resets the multistep state. */
    public void setTimesteps(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + n);
        }
        float[] ramp = Scheduler.torchLinspace(0f, 1f, n);
        float[] s;
        if (karras) {
            float minInv = (float) Math.pow(sigmaMin, 1 / rho);
            float maxInv = (float) Math.pow(sigmaMax, 1 / rho);
            s = new float[n];
            for (int i = 0; i < n; i++) {
                s[i] = (float) Math.pow(maxInv + ramp[i] * (minInv - maxInv), rho);
            }
        } else {
            float[] logs = Scheduler.torchLinspace((float) Math.log(sigmaMin), (float) Math.log(sigmaMax), n);
            s = new float[n];
            for (int i = 0; i < n; i++) {
                s[n - 1 - i] = (float) Math.exp(logs[i]); // .exp().flip(0)
            }
        }
        timesteps = new double[n];
        for (int i = 0; i < n; i++) {
            timesteps[i] = preconditionNoise(s[i]);
        }
        sigmas = new float[n + 1];
        System.arraycopy(s, 0, sigmas, 0, n);
        sigmas[n] = finalSigmaZero ? 0f : (float) sigmaMin;
        modelOutputs = new float[solverOrder][];
        lowerOrderNums = 0;
        stepIndex = 0;
    }

    /** {@code atan(σ) / π · 2} in float32. */
    static float preconditionNoise(float sigma) {
        return (float) Math.atan(sigma) / (float) Math.PI * 2f;
    }

    /** The DiT timesteps, in order. */
    public double[] timesteps() {
        return timesteps.clone();
    }

    /** The schedule's sigmas, with the final one appended. */
    public float[] sigmas() {
        return sigmas.clone();
    }

    public int steps() {
        return timesteps.length;
    }

    /** The DiT input of step {@code index}: {@code sample / sqrt(σ² + σ_data²)}. */
    public float[] scaleModelInput(float[] sample, int index) {
        float sigma = sigmas[index];
        float sd = (float) sigmaData;
        float cIn = 1f / (float) Math.pow(sigma * sigma + sd * sd, 0.5);
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sample[i] * cIn;
        }
        return out;
    }

    /**
     * One step from the guided model output at {@code timesteps()[index]}. Steps must be taken in order on one
     * instance (it keeps the previous data prediction).
     *
     * @param noise supplies the step's unit-variance noise (one draw of {@code sample.length} values)
     */
    public float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise) {
        if (timesteps == null) {
            throw new IllegalStateException("setTimesteps first");
        }
        if (index != stepIndex) {
            throw new IllegalArgumentException("step " + index + " out of order (expected " + stepIndex + ")");
        }
        if (modelOutput.length != sample.length) {
            throw new IllegalArgumentException("model output has " + modelOutput.length + " values, the sample "
                    + sample.length);
        }
        int n = timesteps.length;
        boolean lowerFinal = index == n - 1 && (eulerAtFinal || (lowerOrderFinal && n < 15) || finalSigmaZero);
        boolean lowerSecond = index == n - 2 && lowerOrderFinal && n < 15;
        float[] x0 = preconditionOutputs(sample, modelOutput, sigmas[index]);
        for (int i = 0; i < solverOrder - 1; i++) {
            modelOutputs[i] = modelOutputs[i + 1];
        }
        modelOutputs[solverOrder - 1] = x0;
        float[] z = noise.next(sample.length);
        if (z.length != sample.length) {
            throw new IllegalArgumentException("noise has " + z.length + " values, expected " + sample.length);
        }
        float[] prev;
        if (solverOrder == 1 || lowerOrderNums < 1 || lowerFinal) {
            prev = firstOrder(x0, sample, z, index);
        } else {
            prev = secondOrder(sample, z, index);
        }
        if (lowerOrderNums < solverOrder) {
            lowerOrderNums++;
        }
        stepIndex++;
        return prev;
    }

    /** The EDM data prediction: {@code c_skip · sample + c_out · output}. */
    private float[] preconditionOutputs(float[] sample, float[] output, float sigma) {
        float sd = (float) sigmaData;
        float sd2 = sd * sd;
        float s2 = sigma * sigma + sd2;
        float cSkip = sd2 / s2;
        float cOut = (vPrediction ? -sigma : sigma) * sd / (float) Math.pow(s2, 0.5);
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = cSkip * sample[i] + cOut * output[i];
        }
        return out;
    }

    /** {@code λ = log(α) − log(σ)} with α = 1 (the inputs are pre-scaled): −log σ, +∞ at σ = 0. */
    private static float lambda(float sigma) {
        return 0f - (float) Math.log(sigma);
    }

    private float[] firstOrder(float[] x0, float[] sample, float[] z, int index) {
        float sigmaT = sigmas[index + 1];
        float sigmaS = sigmas[index];
        float h = lambda(sigmaT) - lambda(sigmaS);
        float a = sigmaT / sigmaS * (float) Math.exp(-h);
        float b = 1f - (float) Math.exp(-2.0f * h);
        float c = sigmaT * (float) Math.sqrt(1.0f - (float) Math.exp(-2f * h));
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = a * sample[i] + b * x0[i] + c * z[i];
        }
        return out;
    }

    private float[] secondOrder(float[] sample, float[] z, int index) {
        float sigmaT = sigmas[index + 1];
        float sigmaS0 = sigmas[index];
        float sigmaS1 = sigmas[index - 1];
        float lambdaT = lambda(sigmaT);
        float lambdaS0 = lambda(sigmaS0);
        float lambdaS1 = lambda(sigmaS1);
        float[] m0 = modelOutputs[solverOrder - 1];
        float[] m1 = modelOutputs[solverOrder - 2];
        float h = lambdaT - lambdaS0;
        float h0 = lambdaS0 - lambdaS1;
        float r0 = h0 / h;
        float invR0 = 1.0f / r0;
        float a = sigmaT / sigmaS0 * (float) Math.exp(-h);
        float b = 1f - (float) Math.exp(-2.0f * h);
        float c = sigmaT * (float) Math.sqrt(1.0f - (float) Math.exp(-2f * h));
        float d1Coef = midpoint ? 0.5f * b : (1.0f - (float) Math.exp(-2.0f * h)) / (-2.0f * h) + 1.0f;
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            float d1 = invR0 * (m0[i] - m1[i]);
            out[i] = a * sample[i] + b * m0[i] + d1Coef * d1 + c * z[i];
        }
        return out;
    }
}
