package org.euterpe.pipeline.conformance;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.euterpe.converter.Precision;
import org.euterpe.nn.dance.UNet1DModel;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.dance.DanceDiffusionPipeline;
import org.euterpe.pipeline.dance.DanceGeometry;
import org.euterpe.pipeline.noise.TorchGenerator;
import org.euterpe.pipeline.scheduler.IpndmScheduler;
import org.euterpe.pipeline.scheduler.VDiffusion;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * The Dance Diffusion part of {@link ConformanceRunner} (FORMAT-DANCE.md): schedules, the
 * isolated U-Net calls with their traces, the pipeline runs (closed loop, plus every IPNDM step
 * open loop on the recorded schedule and history), regenerate and interpolate (closed loop, plus
 * open-loop v-DDIM steps and the slerp from the recorded inversion). Names resolve through
 * {@code tensor_aliases}; per-step records exist only for the recorded steps.
 */
final class DanceConformance {
    static final String PIPELINE_CLASS = DanceDiffusionPipeline.PIPELINE_CLASS;

    // FORMAT-DANCE.md section 9.
    static final double SCHEDULE_ABS = 1e-6;
    static final double SCHEDULE_ALPHA_ABS = 1e-5;
    static final double UNET_TOL = 1e-5;
    static final double STEP_TOL = 1e-6;
    static final double SLERP_TOL = 1e-5;
    static final double LOOP_TOL = 1e-4;
    static final double AUDIO_ABS = 1e-4;

    private final ConformanceRunner r;
    private final JsonObject g;
    private final Path caseDir;
    private final Path modelDir;
    private final Backend backend;
    private final Precision precision;
    private final Map<String, String> aliases = new HashMap<>();
    private SafetensorsFile gs;

    DanceConformance(ConformanceRunner runner, JsonObject golden, Path caseDir, Path modelDir, Backend backend,
            Precision precision) {
        this.r = runner;
        this.g = golden;
        this.caseDir = caseDir;
        this.modelDir = modelDir;
        this.backend = backend;
        this.precision = precision;
        if (g.has("tensor_aliases")) {
            g.getObject("tensor_aliases").map().forEach((k, v) -> aliases.put(k, (String) v));
        }
    }

    void run() throws IOException {
        try (SafetensorsFile golden = SafetensorsFile.open(caseDir.resolve("golden.safetensors"));
                DanceDiffusionPipeline pipe = DanceDiffusionPipeline.load(modelDir, backend, precision)) {
            gs = golden;
            r.snrFloor = ConformanceRunner.snrFloor(pipe.weightDtypes());
            if (!Double.isNaN(r.snrFloor)) {
                r.out.printf(Locale.ROOT, "low-precision weights %s: judging by SNR >= %.0f dB against the float32"
                        + " reference%n", pipe.weightDtypes(), r.snrFloor);
            }
            if (r.wants("models") || r.wants("unet")) {
                schedules();
                unetCalls(pipe.unet());
            }
            if (r.wants("runs")) {
                runs(pipe);
                regenerate(pipe);
                interpolate(pipe);
            }
        }
    }

    // ------------------------------------------------------------ records

    private String resolve(String name) {
        return aliases.getOrDefault(name, name);
    }

    private boolean has(String name) {
        return gs.contains(resolve(name));
    }

    private float[] ref(String name) {
        return gs.floats(resolve(name));
    }

    private int[] shape(String name) {
        return gs.entry(resolve(name)).shape().dims();
    }

    /** An absolute comparison (schedules, clipped audio): max |got - ref| against {@code tol}. */
    private void absolute(String name, float[] got, double tol) {
        if (!has(name)) {
            return;
        }
        float[] ref = ref(name);
        if (got.length != ref.length) {
            r.fail(name, got.length + " values, the reference has " + ref.length);
            return;
        }
        double abs = ConformanceRunner.maxAbs(got, ref);
        r.results.add(r.print(new ConformanceRunner.Result(name + " (absolute)", abs, Double.NaN, Double.NaN, tol,
                abs <= tol, "")));
    }

    private void relative(String name, float[] got, double tol) {
        if (has(name)) {
            r.record(name, got, ref(name), tol);
        }
    }

    // ------------------------------------------------------------ schedules

    private void schedules() {
        for (Object o : g.getList("scheduler")) {
            int n = new JsonObject(o, "scheduler").getInt("num_inference_steps");
            IpndmScheduler s = new IpndmScheduler();
            s.setTimesteps(n);
            String p = "scheduler." + n + ".";
            absolute(p + "t_linear", s.tLinear(), SCHEDULE_ABS);
            absolute(p + "betas", s.betas(), SCHEDULE_ABS);
            absolute(p + "alphas", s.alphas(), SCHEDULE_ALPHA_ABS);
            absolute(p + "timesteps", s.timesteps(), SCHEDULE_ALPHA_ABS);
        }
    }

    // ------------------------------------------------------------ isolated U-Net calls

    private void unetCalls(UNet1DModel unet) {
        for (Object o : g.getList("unet_calls")) {
            String p = new JsonObject(o, "unet_call").getString("name") + ".";
            Map<String, float[]> trace = new HashMap<>();
            float[] out;
            try (Scope scope = Scope.open()) {
                Tensor x = backend.fromArray(ref(p + "sample"), Shape.of(shape(p + "sample")));
                out = unet.forward(x, ref(p + "timestep"), (name, t) -> trace.put(name, t.toFloatArray()))
                        .toFloatArray();
            } catch (RuntimeException e) {
                r.fail(p + "out", e.getClass().getSimpleName() + ": " + e.getMessage());
                continue;
            }
            for (String name : gs.names()) {
                if (name.startsWith(p + "trace.")) {
                    String module = name.substring((p + "trace.").length());
                    if (trace.containsKey(module)) {
                        r.record(name, trace.get(module), gs.floats(name), UNET_TOL);
                    } else {
                        r.fail(name, "not traced");
                    }
                }
            }
            relative(p + "out", out, UNET_TOL);
        }
    }

    // ------------------------------------------------------------ pipeline runs

    private void runs(DanceDiffusionPipeline pipe) {
        for (Object o : g.getList("runs")) {
            JsonObject run = new JsonObject(o, "run");
            String p = run.getString("name") + ".";
            JsonObject call = run.getObject("pipeline_call");
            int batch = call.getInt("batch_size");
            int steps = call.getInt("num_inference_steps");
            Double seconds = call.raw("audio_length_in_s") == null ? null : call.getDouble("audio_length_in_s");
            JsonObject geoRef = run.getObject("geometry");
            DanceGeometry geo = pipe.geometry(seconds);
            r.exact(p + "geometry", geo.original() == geoRef.getInt("original_sample_size")
                    && geo.padded() == geoRef.getInt("padded_sample_size"),
                    "original " + geo.original() + ", padded " + geo.padded());
            float[] noise = new TorchGenerator(run.getLong("seed")).randn(batch, pipe.channels(), geo.padded());
            relative(p + "noise_in", noise, STEP_TOL);
            IpndmScheduler s = new IpndmScheduler();
            s.setTimesteps(steps);
            absolute(p + "timesteps", s.timesteps(), SCHEDULE_ALPHA_ABS);
            absolute(p + "betas", s.betas(), SCHEDULE_ABS);
            absolute(p + "alphas", s.alphas(), SCHEDULE_ALPHA_ABS);
            openLoopIpndm(run, p, steps);
            Map<String, float[]> traced = new HashMap<>();
            try {
                pipe.generate(batch, steps, geo, noise, ProgressListener.NONE, (n, x) -> traced.put(n, x.clone()));
            } catch (RuntimeException e) {
                r.fail(p + "generate", e.getClass().getSimpleName() + ": " + e.getMessage());
                continue;
            }
            int calls = run.getInt("num_unet_calls");
            r.exact(p + "num_unet_calls", traced.containsKey("unet." + (calls - 1) + ".out")
                    && !traced.containsKey("unet." + calls + ".out"), "U-Net calls");
            for (int k = 0; k < steps; k++) {
                relative(p + "unet." + k + ".out", traced.get("unet." + k + ".out"), LOOP_TOL);
                relative(p + "step." + k + ".prev_sample", traced.get("step." + k + ".prev_sample"), LOOP_TOL);
            }
            absolute(p + "audio_full", traced.get("audio_full"), AUDIO_ABS);
            absolute(p + "audio", traced.get("audio"), AUDIO_ABS);
        }
    }

    /**
     * Each replayable IPNDM step alone: the recorded schedule, the recorded model output and sample,
     * and the history {@code e_j = sample_j sigma_j + out_j alpha_j} from the recorded earlier steps.
     */
    private void openLoopIpndm(JsonObject run, String p, int steps) {
        float[] betas = ref(p + "betas");
        float[] alphas = ref(p + "alphas");
        float[] ts = ref(p + "timesteps");
        for (Object o : run.getList("scheduler_replayable_steps")) {
            int k = ((Number) o).intValue();
            String out = p + "step." + k + ".model_output";
            String sample = p + "step." + k + ".sample";
            if (!has(out) || !has(sample) || !has(p + "step." + k + ".prev_sample")) {
                continue;
            }
            List<float[]> history = new ArrayList<>();
            for (int j = Math.max(0, k - 3); j < k; j++) {
                float[] sj = ref(p + "step." + j + ".sample");
                float[] vj = ref(p + "step." + j + ".model_output");
                float[] e = new float[sj.length];
                for (int i = 0; i < e.length; i++) {
                    e[i] = sj[i] * betas[j] + vj[i] * alphas[j];
                }
                history.add(e);
            }
            IpndmScheduler s = new IpndmScheduler();
            s.setSchedule(betas, alphas, ts);
            s.setHistory(history, k);
            relative(p + "step." + k + ".prev_sample", s.step(ref(out), ref(sample)), STEP_TOL);
        }
    }

    // ------------------------------------------------------------ regenerate

    private void regenerate(DanceDiffusionPipeline pipe) {
        if (!g.has("regenerate")) {
            return;
        }
        for (Object o : g.getList("regenerate")) {
            JsonObject rg = new JsonObject(o, "regenerate");
            String p = rg.getString("name") + ".";
            float level = (float) rg.getDouble("noise_level");
            int total = rg.getInt("num_steps_total");
            int batch = rg.getInt("batch_size");
            DanceDiffusionPipeline.RegenerateSchedule s = DanceDiffusionPipeline.regenerateSchedule(level, total);
            absolute(p + "t_linear", s.tLinear(), SCHEDULE_ABS);
            absolute(p + "crash_t", s.crash(), SCHEDULE_ALPHA_ABS);
            absolute(p + "steps", s.steps(), SCHEDULE_ALPHA_ABS);
            absolute(p + "alphas", VDiffusion.alphas(s.steps()), SCHEDULE_ALPHA_ABS);
            absolute(p + "sigmas", VDiffusion.sigmas(s.steps()), SCHEDULE_ABS);
            absolute(p + "start_alpha", new float[] {s.startAlpha()}, SCHEDULE_ALPHA_ABS);
            absolute(p + "start_sigma", new float[] {s.startSigma()}, SCHEDULE_ABS);
            r.exact(p + "num_unet_calls", s.steps().length == rg.getInt("num_unet_calls"),
                    s.steps().length + " U-Net calls");
            int length = shape(p + "input")[2];
            float[] noise = new TorchGenerator(rg.getLong("seed")).randn(batch, pipe.channels(), length);
            relative(p + "noise", noise, STEP_TOL);
            openLoopVddim(p, ref(p + "alphas"), ref(p + "sigmas"));
            Map<String, float[]> traced = new HashMap<>();
            try {
                pipe.regenerate(ref(p + "input"), noise, batch, length, level, total, ProgressListener.NONE,
                        (n, x) -> traced.put(n, x.clone()));
            } catch (RuntimeException e) {
                r.fail(p + "regenerate", e.getClass().getSimpleName() + ": " + e.getMessage());
                continue;
            }
            relative(p + "noised", traced.get("noised"), STEP_TOL);
            loopRecords(p, traced, s.steps().length);
            relative(p + "out", traced.get("out"), LOOP_TOL);
        }
    }

    /** Closed-loop per-step records of a v-DDIM loop that were recorded. */
    private void loopRecords(String p, Map<String, float[]> traced, int steps) {
        for (int k = 0; k < steps; k++) {
            relative(p + "unet." + k + ".out", traced.get("unet." + k + ".out"), LOOP_TOL);
            if (traced.containsKey("step." + k + ".prev_sample")) {
                relative(p + "step." + k + ".prev_sample", traced.get("step." + k + ".prev_sample"), LOOP_TOL);
            }
        }
    }

    /** Every recorded v-DDIM step alone, from its recorded sample and model output. */
    private void openLoopVddim(String p, float[] alphas, float[] sigmas) {
        for (int k = 0; k + 1 < alphas.length; k++) {
            String out = p + "unet." + k + ".out";
            String sample = p + "step." + k + ".sample";
            String prev = p + "step." + k + ".prev_sample";
            if (has(out) && has(sample) && has(prev)) {
                r.record(prev + " (one step)", VDiffusion.step(ref(sample), ref(out), alphas[k], sigmas[k],
                        alphas[k + 1], sigmas[k + 1]), ref(prev), STEP_TOL);
            }
        }
    }

    // ------------------------------------------------------------ interpolate

    private void interpolate(DanceDiffusionPipeline pipe) {
        if (!g.has("interpolate")) {
            return;
        }
        for (Object o : g.getList("interpolate")) {
            JsonObject in = new JsonObject(o, "interpolate");
            String p = in.getString("name") + ".";
            int steps = in.getInt("num_steps");
            List<Object> ratioList = in.getList("ratios");
            float[] ratios = new float[ratioList.size()];
            for (int i = 0; i < ratios.length; i++) {
                ratios[i] = ((Number) ratioList.get(i)).floatValue();
            }
            float[] reverse = VDiffusion.crashSchedule(VDiffusion.linspace(0f, 1f, steps + 1));
            absolute(p + "reverse.steps", reverse, SCHEDULE_ALPHA_ABS);
            absolute(p + "reverse.alphas", VDiffusion.alphas(reverse), SCHEDULE_ALPHA_ABS);
            absolute(p + "reverse.sigmas", VDiffusion.sigmas(reverse), SCHEDULE_ABS);
            float[] forward = VDiffusion.crashSchedule(java.util.Arrays.copyOf(
                    VDiffusion.linspace(1f, 0f, steps + 1), steps));
            absolute(p + "forward.steps", forward, SCHEDULE_ALPHA_ABS);
            absolute(p + "forward.alphas", VDiffusion.alphas(forward), SCHEDULE_ALPHA_ABS);
            absolute(p + "forward.sigmas", VDiffusion.sigmas(forward), SCHEDULE_ABS);
            openLoopVddim(p + "reverse.", ref(p + "reverse.alphas"), ref(p + "reverse.sigmas"));
            openLoopVddim(p + "forward.", ref(p + "forward.alphas"), ref(p + "forward.sigmas"));
            int length = shape(p + "clips")[2];
            Map<String, float[]> traced = new HashMap<>();
            DanceDiffusionPipeline.Interpolation got;
            try {
                got = pipe.interpolate(ref(p + "clips"), length, ratios, steps, ProgressListener.NONE,
                        (n, x) -> traced.put(n, x.clone()));
            } catch (RuntimeException e) {
                r.fail(p + "interpolate", e.getClass().getSimpleName() + ": " + e.getMessage());
                continue;
            }
            loopRecords(p + "reverse.", prefixed(traced, "reverse."), steps);
            relative(p + "inverted", got.inverted(), LOOP_TOL);
            // The slerp alone, from the recorded inversion.
            DanceDiffusionPipeline.Interpolation slerp = DanceDiffusionPipeline.slerp(ref(p + "inverted"),
                    pipe.channels(), length, ratios);
            absolute(p + "slerp.cos_omega", slerp.cosOmega(), SCHEDULE_ABS);
            absolute(p + "slerp.omega", slerp.omega(), SCHEDULE_ABS);
            absolute(p + "slerp.a", flat(slerp.a()), SCHEDULE_ABS);
            absolute(p + "slerp.b", flat(slerp.b()), SCHEDULE_ABS);
            r.record(p + "slerped (from the recorded inversion)", slerp.slerped(), ref(p + "slerped"), SLERP_TOL);
            relative(p + "slerped", got.slerped(), LOOP_TOL);
            loopRecords(p + "forward.", prefixed(traced, "forward."), steps);
            relative(p + "out", got.out(), LOOP_TOL);
        }
    }

    private static Map<String, float[]> prefixed(Map<String, float[]> traced, String prefix) {
        Map<String, float[]> out = new HashMap<>();
        traced.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    private static float[] flat(float[][] rows) {
        int n = 0;
        for (float[] row : rows) {
            n += row.length;
        }
        float[] out = new float[n];
        int i = 0;
        for (float[] row : rows) {
            System.arraycopy(row, 0, out, i, row.length);
            i += row.length;
        }
        return out;
    }
}
