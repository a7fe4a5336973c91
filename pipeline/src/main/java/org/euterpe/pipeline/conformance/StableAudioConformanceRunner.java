package org.euterpe.pipeline.conformance;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.euterpe.nn.Trace;
import org.euterpe.nn.oobleck.OobleckDiagonalGaussianDistribution;
import org.euterpe.nn.stableaudio.RotaryEmbedding;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.scheduler.CosineDPMSolverMultistepScheduler;
import org.euterpe.pipeline.stableaudio.StableAudioNoise;
import org.euterpe.pipeline.stableaudio.StableAudioPipeline;
import org.euterpe.pipeline.stableaudio.StableAudioRequest;
import org.euterpe.pipeline.tokenizer.Encoding;
import org.euterpe.pipeline.tokenizer.T5Tokenizer;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * Replays a Stable Audio conformance case (FORMAT-STABLE-AUDIO.md) through the engine: the tokenizer
 * (ids, masks, untruncated ids: exact), the text encoder and projections (1e-5), the two isolated DiT calls
 * (1e-5), the Oobleck decode and encode (2e-5), the scheduler's schedules and every step replayed open loop
 * (1e-6), and the five full runs closed loop with the recorded noise injected (1e-4). One line per record,
 * as {@link ConformanceRunner} prints them.
 *
 * <p>With weights below f32 ({@code --dtype}, or a converted file), every record that goes through the weights
 * is judged as {@link ConformanceRunner} judges AudioLDM's: by its SNR against the float32 reference, at least
 * {@value ConformanceRunner#SNR_16BIT_DB} dB for f16/bf16 and {@value ConformanceRunner#SNR_INT8_DB} dB for
 * int8. The tokenizer stays exact; the rotary tables and the scheduler, which use no weights, keep their
 * tolerances. The full runs are then replayed <em>open loop</em>: every DiT call of a run from its recorded
 * inputs, the decode from the recorded final latents, each output judged by its SNR. Closed loop, the
 * stochastic sampler with guidance 7 multiplies any per-call difference step after step (as it multiplies the
 * f32 port's 1e-5 per call into the runs' 1e-4), so the closed-loop SNR of the final audio measures the
 * sampler's sensitivity more than the weights; it is printed as a note, not judged.
 */
public final class StableAudioConformanceRunner {
    /** Record kinds for {@code --only}. */
    public static final Set<String> KINDS = Set.of("tokenizer", "text", "dit", "vae", "scheduler", "runs");

    private final Path caseDir;
    private final Path model;
    private final Backend backend;
    private final Set<String> only;
    private final org.euterpe.converter.Precision precision;
    private final PrintStream out;
    private double snrFloor = Double.NaN; // NaN: f32 weights, judged by the tolerances
    private final List<ConformanceRunner.Result> results = new ArrayList<>();

    /** Whether {@code caseDir}'s golden.json records a StableAudioPipeline. */
    public static boolean isStableAudioCase(Path caseDir) {
        try {
            Object g = Json.parseLenient(Files.readString(caseDir.resolve("golden.json")));
            return g instanceof Map<?, ?> m && StableAudioPipeline.PIPELINE_CLASS.equals(m.get("pipeline_class"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * @param modelOverride a model folder or converted file instead of the case folder, or null
     * @param only          kinds to replay ({@link #KINDS}); empty for all
     */
    public StableAudioConformanceRunner(Path caseDir, Path modelOverride, Backend backend, Set<String> only,
            PrintStream out) {
        this(caseDir, modelOverride, backend, org.euterpe.converter.Precision.AS_STORED, only, out);
    }

    /** @param precision weight precision to convert a model folder to in memory (AS_STORED for a file) */
    public StableAudioConformanceRunner(Path caseDir, Path modelOverride, Backend backend,
            org.euterpe.converter.Precision precision, Set<String> only, PrintStream out) {
        for (String k : only) {
            if (!KINDS.contains(k)) {
                throw new IllegalArgumentException("unknown record kind \"" + k + "\" (expected one of " + KINDS + ")");
            }
        }
        this.caseDir = caseDir;
        this.model = modelOverride != null ? modelOverride : caseDir;
        this.backend = backend;
        this.only = only;
        this.precision = precision;
        this.out = out;
    }

    private boolean wants(String kind) {
        return only.isEmpty() || only.contains(kind);
    }

    public List<ConformanceRunner.Result> run() throws IOException {
        JsonObject golden = new JsonObject(Json.parseLenient(Files.readString(caseDir.resolve("golden.json"))),
                caseDir + "/golden.json");
        try (SafetensorsFile st = SafetensorsFile.open(caseDir.resolve("golden.safetensors"));
                StableAudioPipeline pipe = StableAudioPipeline.load(model, backend, precision);
                Scope scope = Scope.open()) {
            snrFloor = ConformanceRunner.snrFloor(pipe.weightDtypes());
            if (!Double.isNaN(snrFloor)) {
                out.printf(Locale.ROOT, "low-precision weights %s: judging by SNR >= %.0f dB against the float32"
                        + " reference%n", pipe.weightDtypes(), snrFloor);
            }
            if (wants("tokenizer")) {
                tokenizer(golden, st, pipe.tokenizer());
            }
            if (wants("text")) {
                text(golden, st, pipe);
            }
            if (wants("dit")) {
                dit(golden, st, pipe);
            }
            if (wants("vae")) {
                vae(st, pipe);
            }
            if (wants("scheduler")) {
                scheduler(golden, st, pipe);
            }
            if (wants("runs")) {
                if (Double.isNaN(snrFloor)) {
                    runs(golden, st, pipe, true);
                } else {
                    runsOpenLoop(golden, st, pipe);
                    runs(golden, st, pipe, false);
                }
            }
        }
        return List.copyOf(results);
    }

    private void tokenizer(JsonObject golden, SafetensorsFile st, T5Tokenizer tok) {
        int max = golden.getObject("tokenizer").getInt("model_max_length");
        for (Object o : golden.getList("prompts")) {
            JsonObject p = new JsonObject(o, "prompts");
            String r = "prompt." + p.getInt("index") + ".";
            String text = p.getString("text");
            Encoding e = tok.encode(text, max, true, true);
            exact(r + "input_ids", e.inputIds(), st.longs(r + "input_ids"));
            exact(r + "attention_mask", e.attentionMask(), st.longs(r + "attention_mask"));
            exact(r + "untruncated_input_ids", tok.encodeUntruncated(text).inputIds(),
                    st.longs(r + "untruncated_input_ids"));
            boolean same = p.getStringList("pieces").equals(tok.tokenize(text));
            results.add(print(new ConformanceRunner.Result(r + "pieces", same ? 0 : 1, Double.NaN, Double.NaN, 0, same,
                    same ? "exact" : "differ")));
        }
    }

    private void text(JsonObject golden, SafetensorsFile st, StableAudioPipeline pipe) {
        for (Object o : golden.getList("prompts")) {
            String r = "prompt." + new JsonObject(o, "prompts").getInt("index") + ".";
            Map<String, float[]> trace = new HashMap<>();
            try (Scope s = Scope.open()) {
                Tensor last = pipe.textEncoder().forward(new long[][] {st.longs(r + "input_ids")},
                        new long[][] {st.longs(r + "attention_mask")}, (n, t) -> trace.put(n, t.toFloatArray()));
                for (String name : st.names().stream().filter(n -> n.startsWith(r + "t5_trace.")).sorted().toList()) {
                    check(name, trace.get(name.substring((r + "t5_trace.").length())), st, ConformanceRunner.TEXT_TOL);
                }
                check(r + "last_hidden_state", last.toFloatArray(), st, ConformanceRunner.TEXT_TOL);
                check(r + "projected", pipe.projection().projectText(last).toFloatArray(), st,
                        ConformanceRunner.TEXT_TOL);
            }
        }
        for (Object o : golden.getList("encode_prompt")) {
            JsonObject e = new JsonObject(o, "encode_prompt");
            List<String> negative = e.raw("negative_prompt") == null ? null : texts(e.raw("negative_prompt"));
            try (Scope s = Scope.open()) {
                float[] got = pipe.encodePrompt(texts(e.raw("prompt")), negative,
                        e.getBoolean("do_classifier_free_guidance")).toFloatArray();
                check("encode_prompt." + e.getString("name") + ".prompt_embeds", got, st, ConformanceRunner.TEXT_TOL);
            }
        }
        for (Object o : golden.getList("encode_duration")) {
            JsonObject d = new JsonObject(o, "encode_duration");
            String r = "encode_duration." + d.getString("name") + ".";
            try (Scope s = Scope.open()) {
                check(r + "seconds_start_hidden_states", pipe.projection().secondsStart(
                        new float[] {(float) d.getDouble("audio_start_in_s")}, backend).toFloatArray(), st,
                        ConformanceRunner.TEXT_TOL);
                check(r + "seconds_end_hidden_states", pipe.projection().secondsEnd(
                        new float[] {(float) d.getDouble("audio_end_in_s")}, backend).toFloatArray(), st,
                        ConformanceRunner.TEXT_TOL);
            }
        }
    }

    private void dit(JsonObject golden, SafetensorsFile st, StableAudioPipeline pipe) {
        for (Object o : golden.getList("dit_calls")) {
            JsonObject call = new JsonObject(o, "dit_calls");
            String p = call.getString("name") + ".";
            try (Scope s = Scope.open()) {
                RotaryEmbedding rotary = RotaryEmbedding.of(backend, call.getInt("rotary_embed_dim"),
                        call.getInt("rotary_positions"));
                math(p + "rotary_cos", rotary.cos().toFloatArray(), st.floats(p + "rotary_cos"), 1e-6);
                math(p + "rotary_sin", rotary.sin().toFloatArray(), st.floats(p + "rotary_sin"), 1e-6);
                Map<String, float[]> trace = new HashMap<>();
                Tensor outT = pipe.transformer().forward(tensor(st, p + "hidden_states"), st.floats(p + "timestep"),
                        tensor(st, p + "encoder_hidden_states"), tensor(st, p + "global_hidden_states"), rotary,
                        (n, t) -> trace.put(n, t.toFloatArray()));
                for (String name : st.names().stream().filter(n -> n.startsWith(p + "trace.")).sorted().toList()) {
                    check(name, trace.get(name.substring((p + "trace.").length())), st, ConformanceRunner.UNET_TOL);
                }
                check(p + "out", outT.toFloatArray(), st, ConformanceRunner.UNET_TOL);
            }
        }
    }

    private void vae(SafetensorsFile st, StableAudioPipeline pipe) {
        try (Scope s = Scope.open()) {
            Map<String, float[]> trace = new HashMap<>();
            Tensor audio = pipe.vae().decode(tensor(st, "vae_decode.latents"), (n, t) -> trace.put(n, t.toFloatArray()));
            for (String name : st.names().stream().filter(n -> n.startsWith("vae_decode.trace.")).sorted().toList()) {
                check(name, trace.get(name.substring("vae_decode.trace.".length())), st, ConformanceRunner.VAE_TOL);
            }
            check("vae_decode.audio", audio.toFloatArray(), st, ConformanceRunner.VAE_TOL);
            trace.clear();
            OobleckDiagonalGaussianDistribution d = pipe.vae().encode(tensor(st, "vae_encode.audio"),
                    (n, t) -> trace.put(n, t.toFloatArray()));
            for (String name : st.names().stream().filter(n -> n.startsWith("vae_encode.trace.")).sorted().toList()) {
                check(name, trace.get(name.substring("vae_encode.trace.".length())), st, ConformanceRunner.VAE_TOL);
            }
            check("vae_encode.mean", d.mean().toFloatArray(), st, ConformanceRunner.VAE_TOL);
            check("vae_encode.scale", d.scale().toFloatArray(), st, ConformanceRunner.VAE_TOL);
            check("vae_encode.std", d.std().toFloatArray(), st, ConformanceRunner.VAE_TOL);
            check("vae_encode.sample", d.sample(tensor(st, "vae_encode.noise")).toFloatArray(), st,
                    ConformanceRunner.VAE_TOL);
        }
    }

    private void scheduler(JsonObject golden, SafetensorsFile st, StableAudioPipeline pipe) {
        for (Object o : golden.getObject("scheduler").getList("schedules")) {
            int n = new JsonObject(o, "schedules").getInt("steps");
            CosineDPMSolverMultistepScheduler s = pipe.scheduler();
            s.setTimesteps(n);
            double[] t = s.timesteps();
            float[] tf = new float[t.length];
            for (int i = 0; i < t.length; i++) {
                tf[i] = (float) t[i];
            }
            math("scheduler." + n + ".timesteps", tf, st.floats("scheduler." + n + ".timesteps"), 1e-6);
            math("scheduler." + n + ".sigmas", s.sigmas(), st.floats("scheduler." + n + ".sigmas"), 1e-6);
        }
        for (Object o : golden.getList("runs")) {
            JsonObject run = new JsonObject(o, "runs");
            String name = run.getString("name");
            int n = run.getObject("pipeline_call").getInt("num_inference_steps");
            CosineDPMSolverMultistepScheduler s = pipe.scheduler();
            s.setTimesteps(n);
            for (int k = 0; k < n; k++) {
                String p = name + ".step." + k + ".";
                float[] noise = st.floats(p + "noise");
                float[] prev = s.step(st.floats(p + "model_output"), k, st.floats(p + "sample"), m -> noise);
                math(p + "prev_sample (open loop)", prev, st.floats(p + "prev_sample"), 1e-6);
            }
        }
    }

    /** Low-precision weights: each run's DiT calls and its decode from their recorded inputs. */
    private void runsOpenLoop(JsonObject golden, SafetensorsFile st, StableAudioPipeline pipe) {
        for (Object o : golden.getList("runs")) {
            String name = new JsonObject(o, "runs").getString("name");
            for (int k = 0; st.names().contains(name + ".dit." + k + ".out"); k++) {
                String p = name + ".dit." + k + ".";
                try (Scope s = Scope.open()) {
                    Tensor hidden = tensor(st, p + "hidden_states");
                    RotaryEmbedding rotary = RotaryEmbedding.of(backend, pipe.transformer().config().rotaryEmbedDim(),
                            hidden.dim(2) + 1);
                    float[] t = st.floats(p + "timestep");
                    if (t.length == 1) { // recorded as the scalar the pipeline passes; one per batch row
                        t = new float[hidden.dim(0)];
                        Arrays.fill(t, st.floats(p + "timestep")[0]);
                    }
                    Tensor got = pipe.transformer().forward(hidden, t,
                            tensor(st, p + "encoder_hidden_states"), tensor(st, p + "global_hidden_states"), rotary,
                            Trace.NONE);
                    record(p + "out (open loop)", got.toFloatArray(), st.floats(p + "out"), ConformanceRunner.UNET_TOL);
                }
            }
            try (Scope s = Scope.open()) {
                Tensor audio = pipe.vae().decode(tensor(st, name + ".vae_decode_in"), Trace.NONE);
                record(name + ".waveform_full (open loop)", audio.toFloatArray(), st.floats(name + ".waveform_full"),
                        ConformanceRunner.VAE_TOL);
            }
        }
    }

    /** @param judged add each record to the results; false: print only the final audio's SNR as a note */
    private void runs(JsonObject golden, SafetensorsFile st, StableAudioPipeline pipe, boolean judged) {
        for (Object o : golden.getList("runs")) {
            JsonObject run = new JsonObject(o, "runs");
            String name = run.getString("name");
            JsonObject call = run.getObject("pipeline_call");
            float[][][] initial = null;
            if (call.raw("initial_audio_waveforms") != null) {
                String rec = call.getString("initial_audio_waveforms");
                int[] shape = st.entry(rec).shape().dims();
                float[] flat = st.floats(rec);
                initial = new float[shape[0]][shape[1]][shape[2]];
                for (int b = 0; b < shape[0]; b++) {
                    for (int c = 0; c < shape[1]; c++) {
                        System.arraycopy(flat, (b * shape[1] + c) * shape[2], initial[b][c], 0, shape[2]);
                    }
                }
            }
            Object end = call.raw("audio_end_in_s");
            StableAudioRequest request = new StableAudioRequest(texts(call.raw("prompt")),
                    call.raw("negative_prompt") == null ? null : texts(call.raw("negative_prompt")),
                    call.getDouble("guidance_scale"), call.getInt("num_inference_steps"),
                    call.getDouble("audio_start_in_s"), end == null ? null : ((Number) end).doubleValue(),
                    call.getInt("num_waveforms_per_prompt"), call.getInt("generator_seed"), initial, null);
            StableAudioNoise recorded = new StableAudioNoise() {
                @Override
                public float[] latents(int[] shape) {
                    return st.floats(name + ".latents_in");
                }

                @Override
                public float[] initAudio(int[] shape) {
                    return st.floats(name + ".init_latent_noise");
                }

                @Override
                public float[] step(int step, int n) {
                    return st.floats(name + ".step." + step + ".noise");
                }
            };
            Map<String, float[]> trace = new HashMap<>();
            pipe.generate(request, ProgressListener.NONE, recorded, trace::put);
            if (!judged) {
                float[] audio = trace.get("audio");
                out.printf(Locale.ROOT, "note: %s.audio closed loop: snr %.2f dB against the float32 reference"
                        + " (not judged; see the class doc)%n", name, ConformanceRunner.snrDb(audio,
                        st.floats(name + ".audio")));
                continue;
            }
            for (String record : golden.getObject("tensors").map().keySet()) {
                if (!record.startsWith(name + ".") || record.endsWith(".latents_in") || record.endsWith(".timesteps")
                        || record.endsWith(".sigmas") || record.endsWith(".initial_audio_waveforms")) {
                    continue;
                }
                check(record, trace.get(record.substring(name.length() + 1)), st, ConformanceRunner.RUN_TOL);
            }
        }
    }

    private Tensor tensor(SafetensorsFile st, String name) {
        return backend.fromArray(st.floats(name), Shape.of(st.entry(name).shape().dims()));
    }

    @SuppressWarnings("unchecked")
    private static List<String> texts(Object raw) {
        return raw instanceof String s ? List.of(s) : (List<String>) raw;
    }

    private void exact(String name, long[] got, long[] ref) {
        boolean same = Arrays.equals(got, ref);
        results.add(print(new ConformanceRunner.Result(name, same ? 0 : 1, Double.NaN, Double.NaN, 0, same,
                same ? "exact" : "differ: " + Arrays.toString(got))));
    }

    private void check(String name, float[] got, SafetensorsFile st, double tol) {
        if (got == null) {
            results.add(print(new ConformanceRunner.Result(name, Double.NaN, Double.NaN, Double.NaN, 0, false,
                    "not produced")));
            return;
        }
        record(name, got, st.floats(name), tol);
    }

    /** A record that uses no weights: its tolerance whatever the weights' precision. */
    private void math(String name, float[] got, float[] ref, double tol) {
        double floor = snrFloor;
        snrFloor = Double.NaN;
        try {
            record(name, got, ref, tol);
        } finally {
            snrFloor = floor;
        }
    }

    private void record(String name, float[] got, float[] ref, double tol) {
        if (got.length != ref.length) {
            results.add(print(new ConformanceRunner.Result(name, Double.NaN, Double.NaN, Double.NaN, 0, false,
                    got.length + " values, the reference has " + ref.length)));
            return;
        }
        double abs = 0;
        double max = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = Math.abs((double) got[i] - ref[i]);
            abs = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(abs, d);
            max = Math.max(max, Math.abs(ref[i]));
        }
        double rel = max == 0 ? abs : abs / max;
        if (!Double.isNaN(snrFloor)) {
            // An exact match has an infinite SNR, also when both are all zeros (0/0).
            double snr = abs == 0 ? Double.POSITIVE_INFINITY : ConformanceRunner.snrDb(got, ref);
            results.add(print(new ConformanceRunner.Result(name, abs, rel, snr, snrFloor, snr >= snrFloor, "")));
            return;
        }
        results.add(print(new ConformanceRunner.Result(name, abs, rel, Double.NaN, tol, rel <= tol, "")));
    }

    private ConformanceRunner.Result print(ConformanceRunner.Result r) {
        if (!Double.isNaN(r.snrDb())) {
            out.printf(Locale.ROOT, "%-58s max_abs %.3e snr %7.2f dB  min %2.0f dB %s%n", r.name(), r.maxAbs(),
                    r.snrDb(), r.tolerance(), r.pass() ? "PASS" : "FAIL");
        } else if (Double.isNaN(r.rel())) {
            out.printf(Locale.ROOT, "%-58s %-37s %s%n", r.name(), r.note(), r.pass() ? "PASS" : "FAIL");
        } else {
            out.printf(Locale.ROOT, "%-58s max_abs %.3e rel %.3e tol %.0e %s%n", r.name(), r.maxAbs(), r.rel(),
                    r.tolerance(), r.pass() ? "PASS" : "FAIL");
        }
        return r;
    }
}
