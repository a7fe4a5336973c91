package org.euterpe.pipeline.scheduler;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.euterpe.tensor.json.JsonObject;

/**
 * A scheduler config as diffusers' {@code Cls.from_config(pipeline.scheduler.config)} resolves
 * it: the keys the model's scheduler_config.json sets, and the target sampler's own defaults
 * for the rest. Keys that belong to another diffusers scheduler are accepted and ignored (that
 * is how switching sampler works); a key no scheduler knows is an error.
 */
public record SchedulerConfig(
        int numTrainTimesteps,
        double betaStart,
        double betaEnd,
        String betaSchedule,
        float[] trainedBetas,
        String predictionType,
        String timestepSpacing,
        int stepsOffset,
        boolean setAlphaToOne,
        boolean clipSample,
        double clipSampleRange,
        boolean thresholding,
        boolean skipPrkSteps,
        boolean useKarrasSigmas,
        String interpolationType,
        int solverOrder,
        String algorithmType,
        String solverType,
        boolean lowerOrderFinal,
        double lambdaMinClipped,
        boolean rescaleBetasZeroSnr,
        boolean predictX0,
        int[] disableCorrector) {

    /** Every key of the diffusers schedulers this engine knows of, used or not. */
    private static final Set<String> KNOWN = Set.of(
            "_class_name", "_diffusers_version", "_use_default_values", "num_train_timesteps", "beta_start",
            "beta_end", "beta_schedule", "trained_betas", "prediction_type", "timestep_spacing", "steps_offset",
            "set_alpha_to_one", "clip_sample", "clip_sample_range", "thresholding", "dynamic_thresholding_ratio",
            "sample_max_value", "skip_prk_steps", "use_karras_sigmas", "interpolation_type", "solver_order",
            "algorithm_type", "solver_type", "lower_order_final", "lambda_min_clipped", "variance_type",
            "rescale_betas_zero_snr", "predict_x0", "disable_corrector", "solver_p", "timestep_type",
            "use_lu_lambdas", "euler_at_final", "final_sigmas_type", "sigma_min", "sigma_max", "rho",
            "timestep_scaling");

    /**
     * Reads {@code json} for the sampler {@code kind}; {@code overrides} (may be empty) replace
     * keys, e.g. {@code use_karras_sigmas} from a command-line flag.
     */
    public static SchedulerConfig read(JsonObject json, SamplerKind kind, Map<String, Object> overrides) {
        Set<String> unknown = new TreeSet<>(json.map().keySet());
        unknown.removeAll(KNOWN);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(json.context() + ": unknown scheduler config key(s) " + unknown);
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>(json.map());
        m.putAll(overrides);
        JsonObject j = new JsonObject(m, json.context());
        float[] trained = null;
        if (j.has("trained_betas")) {
            var list = j.getList("trained_betas");
            trained = new float[list.size()];
            for (int i = 0; i < trained.length; i++) {
                trained[i] = ((Number) list.get(i)).floatValue();
            }
        }
        // Defaults differ per class in diffusers: timestep_spacing is "leading" for DDIM/PNDM and
        // "linspace" for the sigma-based and multistep samplers.
        String spacingDefault = kind == SamplerKind.DDIM || kind == SamplerKind.PNDM ? "leading" : "linspace";
        SchedulerConfig c = new SchedulerConfig(
                j.optInt("num_train_timesteps", 1000),
                j.optDouble("beta_start", 0.0001),
                j.optDouble("beta_end", 0.02),
                j.optString("beta_schedule", "linear"),
                trained,
                j.optString("prediction_type", "epsilon"),
                j.optString("timestep_spacing", spacingDefault),
                j.optInt("steps_offset", 0),
                j.optBoolean("set_alpha_to_one", kind == SamplerKind.DDIM),
                kind == SamplerKind.DDIM ? j.optBoolean("clip_sample", true) : j.optBoolean("clip_sample", false),
                j.optDouble("clip_sample_range", 1.0),
                j.optBoolean("thresholding", false),
                j.optBoolean("skip_prk_steps", false),
                j.optBoolean("use_karras_sigmas", false),
                j.optString("interpolation_type", "linear"),
                j.optInt("solver_order", 2),
                j.optString("algorithm_type", "dpmsolver++"),
                j.optString("solver_type", kind == SamplerKind.UNIPC ? "bh2" : "midpoint"),
                j.optBoolean("lower_order_final", true),
                j.optDouble("lambda_min_clipped", Double.NEGATIVE_INFINITY),
                j.optBoolean("rescale_betas_zero_snr", false),
                j.optBoolean("predict_x0", true),
                j.has("disable_corrector") ? j.getIntArray("disable_corrector") : new int[0]);
        if (kind == SamplerKind.UNIPC && j.has("solver_p")) {
            // UniPC's solver_p is a scheduler object in diffusers, not something a config file can name.
            throw new IllegalArgumentException(json.context() + ": solver_p is not supported");
        }
        c.validate(json.context());
        return c;
    }

    private void validate(String ctx) {
        if (!Set.of("linear", "scaled_linear", "squaredcos_cap_v2").contains(betaSchedule) && trainedBetas == null) {
            throw new IllegalArgumentException(ctx + ": unsupported beta_schedule " + betaSchedule);
        }
        if (!Set.of("epsilon", "v_prediction", "sample").contains(predictionType)) {
            throw new IllegalArgumentException(ctx + ": unsupported prediction_type " + predictionType);
        }
        if (!Set.of("leading", "trailing", "linspace").contains(timestepSpacing)) {
            throw new IllegalArgumentException(ctx + ": unsupported timestep_spacing " + timestepSpacing);
        }
        if (thresholding) {
            throw new IllegalArgumentException(ctx + ": dynamic thresholding is not supported (thresholding=true)");
        }
        if (rescaleBetasZeroSnr) {
            throw new IllegalArgumentException(ctx + ": rescale_betas_zero_snr=true is not supported");
        }
        if (numTrainTimesteps < 2) {
            throw new IllegalArgumentException(ctx + ": num_train_timesteps must be >= 2");
        }
    }
}
