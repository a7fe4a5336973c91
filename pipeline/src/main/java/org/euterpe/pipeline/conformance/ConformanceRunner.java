package org.euterpe.pipeline.conformance;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.euterpe.converter.Precision;
import org.euterpe.nn.Trace;
import org.euterpe.pipeline.AudioModel;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.tokenizer.BpeTokenizer;
import org.euterpe.pipeline.tokenizer.Encoding;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * Replays a conformance case (golden.json + golden.safetensors, see FORMAT.md) against the
 * engine and reports, per record, the max abs error and the error relative to the reference's
 * max |value| against the record kind's tolerance. Written against the format, not particular
 * cases: any case folder in the format, holdouts included, can be replayed.
 *
 * <p>The goldens are float32 references. A model whose weights are stored at lower precision
 * (F16/BF16/I8, converted in memory or in a one-file model) cannot meet float32 tolerances, so
 * its records are judged by signal-to-noise ratio against the reference instead,
 * {@code 10 log10(sum ref^2 / sum (got - ref)^2)}: at least {@value #SNR_16BIT_DB} dB when the
 * lowest weight precision is F16 or BF16, {@value #SNR_INT8_DB} dB with I8 weights. Exact records
 * (tokens, U-Net call counts) stay exact.
 */
public final class ConformanceRunner {
    /** Record kinds, for {@code --only}. "models" means every kind but the full runs. */
    public static final Set<String> KINDS = Set.of("models", "tokenizer", "text", "unet", "vae", "vocoder", "runs");

    // FORMAT.md section 8.
    static final double TEXT_TOL = 1e-5;
    static final double UNET_TOL = 1e-5;
    static final double GUIDED_TOL = 2e-5;
    static final double VAE_TOL = 2e-5;
    static final double VOCODER_TOL = 1e-5;
    static final double RUN_TOL = 1e-4;
    static final double AUDIO_ABS_TOL = 1e-6;
    /** SNR floors for low-precision weights (dB). */
    public static final double SNR_16BIT_DB = 40;
    public static final double SNR_INT8_DB = 25;

    /**
     * One compared record. {@code snrDb} is the signal-to-noise ratio against the reference (NaN for
     * exact records); {@code tolerance} is the relative tolerance, or for low-precision weights
     * the SNR floor in dB.
     */
    public record Result(String name, double maxAbs, double rel, double snrDb, double tolerance, boolean pass,
            String note) {
    }

    private final Path caseDir;
    private final Path modelDir;
    private final Backend backend;
    private final Precision precision;
    private final Set<String> only;
    final PrintStream out;
    final List<Result> results = new ArrayList<>();
    double snrFloor = Double.NaN; // NaN: float32 weights, judged by the reference tolerances

    /**
     * @param modelOverride a model folder or one-file model to use instead of the folder the case
     *                      names, or null
     * @param precision     weight precision to convert a model folder to in memory
     *                      ({@link Precision#AS_STORED} for a one-file model)
     * @param only          kinds to replay (see {@link #KINDS}); empty for all
     */
    public ConformanceRunner(Path caseDir, Path modelOverride, Backend backend, Precision precision, Set<String> only,
            PrintStream out) throws IOException {
        this.caseDir = caseDir;
        this.backend = backend;
        this.precision = precision;
        this.only = only;
        this.out = out;
        for (String k : only) {
            if (!KINDS.contains(k)) {
                throw new IllegalArgumentException("unknown record kind \"" + k + "\" (expected one of " + KINDS + ")");
            }
        }
        if (!Files.isRegularFile(caseDir.resolve("golden.json"))) {
            throw new IOException(caseDir + " is not a conformance case (no golden.json)");
        }
        this.modelDir = modelOverride != null ? modelOverride : modelDirOf(caseDir);
    }

    /** Where a case's weights are: golden.json's model_dir, or the conformance case model_case beside it. */
    static Path modelDirOf(Path caseDir) throws IOException {
        JsonObject g = golden(caseDir);
        if (g.has("model_dir")) {
            return caseDir.resolve(g.getString("model_dir")).normalize();
        }
        String modelCase = g.getString("model_case");
        Path sibling = caseDir.toAbsolutePath().getParent().resolve(modelCase);
        if (!Files.isDirectory(sibling)) {
            throw new IOException(caseDir + " reuses the weights of case " + modelCase + ", which is not at " + sibling
                    + " (pass --model)");
        }
        return sibling;
    }

    static JsonObject golden(Path caseDir) throws IOException {
        Path p = caseDir.resolve("golden.json");
        return new JsonObject(Json.parseLenient(Files.readString(p), p.toString()), p.toString());
    }

    boolean wants(String kind) {
        if (only.isEmpty() || only.contains(kind)) {
            return true;
        }
        return only.contains("models") && !kind.equals("runs");
    }

    /** Replays the case; returns the results (also printed line by line). */
    public List<Result> run() throws IOException {
        JsonObject g = golden(caseDir);
        if (DanceConformance.PIPELINE_CLASS.equals(g.optString("pipeline_class", ""))) {
            new DanceConformance(this, g, caseDir, modelDir, backend, precision).run();
            return results;
        }
        if (ClapRerankConformance.isRerankCase(g)) {
            new ClapRerankConformance(this, g, caseDir, modelDir, backend, precision).run();
            return results;
        }
        try (SafetensorsFile gs = SafetensorsFile.open(caseDir.resolve("golden.safetensors"));
                AudioModel model = AudioModel.load(modelDir, backend, precision)) {
            snrFloor = snrFloor(model.weightDtypes());
            if (!Double.isNaN(snrFloor)) {
                out.printf(Locale.ROOT, "low-precision weights %s: judging by SNR >= %.0f dB against the float32 reference%n",
                        model.weightDtypes(), snrFloor);
            }
            TextToAudioPipeline pipe = new TextToAudioPipeline(model);
            if (wants("tokenizer")) {
                tokenizer(g, gs, model.tokenizer());
            }
            if (wants("text")) {
                text(g, gs, model, pipe);
            }
            if (wants("unet")) {
                unet(g, gs, model);
            }
            if (wants("vae")) {
                vae(gs, model);
            }
            if (wants("vocoder")) {
                vocoder(gs, model);
            }
            if (wants("runs")) {
                runs(g, gs, pipe);
            }
        }
        return results;
    }

    /** The SNR floor for a model's weight dtypes, or NaN when every weight is F32. */
    static double snrFloor(Map<String, Set<DType>> dtypes) {
        Set<DType> all = EnumSet.noneOf(DType.class);
        dtypes.values().forEach(all::addAll);
        if (all.contains(DType.I8)) {
            return SNR_INT8_DB;
        }
        return all.contains(DType.F16) || all.contains(DType.BF16) ? SNR_16BIT_DB : Double.NaN;
    }

    // ------------------------------------------------------------ tokenizer

    private void tokenizer(JsonObject g, SafetensorsFile gs, BpeTokenizer tok) {
        int maxLen = g.getObject("tokenizer").getInt("model_max_length");
        for (Object p : g.getList("prompts")) {
            JsonObject rec = new JsonObject(p, "prompt");
            int i = rec.getInt("index");
            String text = rec.getString("text");
            List<String> tokens = tok.tokenize(text);
            exact("prompt." + i + ".tokens", tokens.equals(rec.getStringList("tokens")),
                    "tokens " + (tokens.equals(rec.getStringList("tokens")) ? "equal" : "differ: " + tokens));
            Encoding e = tok.encode(text, maxLen, true, true);
            exactLongs("prompt." + i + ".input_ids", e.inputIds(), gs.longs("prompt." + i + ".input_ids"));
            exactLongs("prompt." + i + ".attention_mask", e.attentionMask(), gs.longs("prompt." + i + ".attention_mask"));
            exactLongs("prompt." + i + ".untruncated_input_ids", tok.encodeUntruncated(text).inputIds(),
                    gs.longs("prompt." + i + ".untruncated_input_ids"));
        }
    }

    // ------------------------------------------------------------ text encoder

    private void text(JsonObject g, SafetensorsFile gs, AudioModel model, TextToAudioPipeline pipe) {
        for (Object p : g.getList("prompts")) {
            int i = new JsonObject(p, "prompt").getInt("index");
            String pre = "prompt." + i + ".";
            long[] ids = gs.longs(pre + "input_ids");
            long[] mask = gs.longs(pre + "attention_mask");
            Map<String, float[]> traced = new HashMap<>();
            Map<String, int[]> shapes = new HashMap<>();
            try (Scope scope = Scope.open()) {
                var o = model.textEncoder().forward(new long[][] {ids}, new long[][] {mask}, (name, t) -> {
                    traced.put(name, t.toFloatArray());
                    shapes.put(name, t.shape().dims());
                });
                traced.put("last_hidden_state", o.lastHiddenState().toFloatArray());
                shapes.put("last_hidden_state", o.lastHiddenState().shape().dims());
                traced.put("pooler_output", o.pooled().toFloatArray());
                float[] embeds = o.textEmbeds().toFloatArray();
                traced.put("text_embeds", embeds);
                traced.put("prompt_embeds", o.textEmbeds().l2Normalize(1e-12f).toFloatArray());
            }
            for (String name : List.of("embeddings", "encoder.layer.")) {
                for (String key : traced.keySet()) {
                    if (key.startsWith(name)) {
                        compareRows(pre + "text_trace." + key, traced.get(key), shapes.get(key), gs, TEXT_TOL);
                    }
                }
            }
            compareRows(pre + "last_hidden_state", traced.get("last_hidden_state"), shapes.get("last_hidden_state"),
                    gs, TEXT_TOL);
            compare(pre + "text_trace.pooler", traced.get("pooler"), gs, TEXT_TOL);
            compare(pre + "pooler_output", traced.get("pooler_output"), gs, TEXT_TOL);
            compare(pre + "text_trace.text_projection", traced.get("text_projection"), gs, TEXT_TOL);
            compare(pre + "text_embeds", traced.get("text_embeds"), gs, TEXT_TOL);
            compare(pre + "prompt_embeds", traced.get("prompt_embeds"), gs, TEXT_TOL);
        }
        JsonObject enc = g.getObject("encode_prompt");
        for (String name : enc.map().keySet()) {
            JsonObject rec = enc.getObject(name);
            List<String> prompts = promptList(rec.raw("prompt"));
            String negative = rec.has("negative_prompt") ? rec.getString("negative_prompt") : null;
            float[] got = pipe.encodePrompt(prompts, rec.getInt("num_waveforms_per_prompt"),
                    rec.getBoolean("do_classifier_free_guidance"), negative);
            compare("encode_prompt." + name + ".prompt_embeds", got, gs, TEXT_TOL);
        }
    }

    /**
     * Hidden states of the real tokens only: the engine never computes padding positions, so
     * the reference's [1, L, H] is compared on its first n rows.
     */
    private void compareRows(String name, float[] got, int[] gotShape, SafetensorsFile gs, double tol) {
        if (got == null) {
            fail(name, "not produced");
            return;
        }
        float[] ref = gs.floats(name);
        int hidden = gotShape[gotShape.length - 1];
        float[] refRows = Arrays.copyOf(ref, Math.min(ref.length, got.length));
        if (got.length % hidden != 0 || got.length > ref.length) {
            fail(name, "shape " + Arrays.toString(gotShape) + " does not fit the reference");
            return;
        }
        record(name + " (real tokens)", got, refRows, tol);
    }

    // ------------------------------------------------------------ U-Net, VAE, vocoder

    private void unet(JsonObject g, SafetensorsFile gs, AudioModel model) {
        for (Object c : g.getList("unet_calls")) {
            String pre = new JsonObject(c, "unet_call").getString("name") + ".";
            float[] sample = gs.floats(pre + "sample");
            int[] sampleShape = gs.entry(pre + "sample").shape().dims();
            float t = gs.floats(pre + "timestep")[0];
            float[] labels = gs.floats(pre + "class_labels");
            int[] labelShape = gs.entry(pre + "class_labels").shape().dims();
            Map<String, float[]> traced = new HashMap<>();
            float[] outArr;
            try (Scope scope = Scope.open()) {
                Tensor out = model.unet().forward(backend.fromArray(sample, Shape.of(sampleShape)), new float[] {t},
                        null, backend.fromArray(labels, Shape.of(labelShape)),
                        (name, x) -> traced.put(name, x.toFloatArray()));
                outArr = out.toFloatArray();
            }
            compare(pre + "out", outArr, gs, UNET_TOL);
            for (Map.Entry<String, float[]> e : new java.util.TreeMap<>(traced).entrySet()) {
                String name = pre + "trace." + e.getKey();
                if (gs.contains(name)) {
                    compare(name, e.getValue(), gs, UNET_TOL);
                }
            }
            for (String name : gs.names()) {
                if (name.startsWith(pre + "guided_")) {
                    float gsc = Float.parseFloat(name.substring((pre + "guided_").length()));
                    int half = outArr.length / 2;
                    float[] guided = new float[half];
                    for (int i = 0; i < half; i++) {
                        guided[i] = outArr[i] + gsc * (outArr[half + i] - outArr[i]);
                    }
                    compare(name, guided, gs, GUIDED_TOL);
                }
            }
        }
    }

    private void vae(SafetensorsFile gs, AudioModel model) {
        if (!gs.contains("vae_decode.latents")) {
            return;
        }
        float[] latents = gs.floats("vae_decode.latents");
        int[] shape = gs.entry("vae_decode.latents").shape().dims();
        float inv = (float) (1.0 / model.vae().scalingFactor().orElse(1.0));
        float[] z = new float[latents.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = latents[i] * inv;
        }
        Map<String, float[]> traced = new HashMap<>();
        float[] mel;
        try (Scope scope = Scope.open()) {
            mel = model.vae().decode(backend.fromArray(z, Shape.of(shape)),
                    (name, x) -> traced.put(name, x.toFloatArray())).toFloatArray();
        }
        compare("vae_decode.mel", mel, gs, VAE_TOL);
        for (Map.Entry<String, float[]> e : new java.util.TreeMap<>(traced).entrySet()) {
            String name = "vae_decode.trace." + e.getKey();
            if (gs.contains(name)) {
                compare(name, e.getValue(), gs, VAE_TOL);
            }
        }
    }

    private void vocoder(SafetensorsFile gs, AudioModel model) {
        if (!gs.contains("vocoder.mel")) {
            return;
        }
        float[] mel = gs.floats("vocoder.mel");
        int[] shape = gs.entry("vocoder.mel").shape().dims();
        Map<String, float[]> traced = new HashMap<>();
        float[] wave;
        try (Scope scope = Scope.open()) {
            Trace trace = (name, x) -> traced.put(name, x.toFloatArray());
            wave = model.vocoder().forward(backend.fromArray(mel, Shape.of(shape)), trace).toFloatArray();
        }
        compare("vocoder.waveform", wave, gs, VOCODER_TOL);
        for (Map.Entry<String, float[]> e : new java.util.TreeMap<>(traced).entrySet()) {
            String name = "vocoder.trace." + e.getKey();
            if (gs.contains(name)) {
                compare(name, e.getValue(), gs, VOCODER_TOL);
            }
        }
    }

    // ------------------------------------------------------------ full pipeline runs

    private void runs(JsonObject g, SafetensorsFile gs, TextToAudioPipeline pipe) {
        for (Object r : g.getList("runs")) {
            JsonObject run = new JsonObject(r, "run");
            String pre = run.getString("name") + ".";
            JsonObject call = run.getObject("pipeline_call");
            List<String> prompts = promptList(call.raw("prompt"));
            GenerationRequest.Builder b = GenerationRequest.builder(prompts.toArray(String[]::new))
                    .guidanceScale(call.getDouble("guidance_scale"))
                    .steps(call.getInt("num_inference_steps"))
                    .seconds(call.getDouble("audio_length_in_s"))
                    .waveformsPerPrompt(call.optInt("num_waveforms_per_prompt", 1))
                    .eta((float) call.optDouble("eta", 0.0))
                    .sampler(TextToAudioPipeline.samplerOf(run.getString("scheduler_class")))
                    .initialLatents(gs.floats(pre + "latents_in"));
            if (call.has("negative_prompt")) {
                b.negativePrompt(call.getString("negative_prompt"));
            }
            int[] draws = {0};
            Map<String, float[]> traced = new HashMap<>();
            try {
                pipe.generate(b.build(), ProgressListener.NONE, n -> gs.floats(pre + "noise." + draws[0]++),
                        (name, x) -> traced.put(name, x.clone()));
            } catch (RuntimeException e) {
                fail(pre + "generate", e.getClass().getSimpleName() + ": " + e.getMessage());
                continue;
            }
            int calls = run.getInt("num_unet_calls");
            exact(pre + "num_unet_calls", traced.containsKey("unet." + (calls - 1) + ".out")
                    && !traced.containsKey("unet." + calls + ".out"), "U-Net calls");
            for (String name : new java.util.TreeSet<>(traced.keySet())) {
                String ref = pre + name;
                if (!gs.contains(ref)) {
                    continue;
                }
                compare(ref, traced.get(name), gs, RUN_TOL);
            }
            float[] audio = traced.get("audio");
            if (audio != null && !Double.isNaN(snrFloor)) {
                record(pre + "audio", audio, gs.floats(pre + "audio"), AUDIO_ABS_TOL);
            } else if (audio != null) {
                float[] ref = gs.floats(pre + "audio");
                double abs = maxAbs(audio, ref);
                results.add(print(new Result(pre + "audio (absolute)", abs, Double.NaN, Double.NaN, AUDIO_ABS_TOL,
                        abs <= AUDIO_ABS_TOL && audio.length == ref.length, "")));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> promptList(Object raw) {
        if (raw instanceof String s) {
            return List.of(s);
        }
        return (List<String>) raw;
    }

    // ------------------------------------------------------------ comparison and reporting

    void compare(String name, float[] got, SafetensorsFile gs, double tol) {
        if (got == null) {
            fail(name, "not produced");
            return;
        }
        record(name, got, gs.floats(name), tol);
    }

    void record(String name, float[] got, float[] ref, double tol) {
        if (got.length != ref.length) {
            fail(name, got.length + " values, the reference has " + ref.length);
            return;
        }
        double abs = maxAbs(got, ref);
        double max = 0;
        for (float v : ref) {
            max = Math.max(max, Math.abs(v));
        }
        double rel = max == 0 ? abs : abs / max;
        if (Double.isNaN(snrFloor)) {
            results.add(print(new Result(name, abs, rel, Double.NaN, tol, rel <= tol, "")));
        } else {
            // An exact match has an infinite SNR, also when both are all zeros (0/0).
            double snr = abs == 0 ? Double.POSITIVE_INFINITY : snrDb(got, ref);
            results.add(print(new Result(name, abs, rel, snr, snrFloor, snr >= snrFloor, "")));
        }
    }

    /**
     * {@code 10 log10(sum ref^2 / sum (got - ref)^2)} in dB: +infinity for an exact match, NaN
     * for NaN values.
     */
    static double snrDb(float[] got, float[] ref) {
        double signal = 0;
        double noise = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) got[i] - ref[i];
            signal += (double) ref[i] * ref[i];
            noise += d * d;
        }
        return 10 * Math.log10(signal / noise);
    }

    static double maxAbs(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            m = Math.max(m, d);
        }
        return m;
    }

    private void exactLongs(String name, long[] got, long[] ref) {
        boolean eq = Arrays.equals(got, ref);
        exact(name, eq, eq ? "exact" : "differs: " + Arrays.toString(Arrays.copyOf(got, Math.min(got.length, 12))));
    }

    void exact(String name, boolean pass, String note) {
        results.add(print(new Result(name, pass ? 0 : Double.NaN, pass ? 0 : Double.NaN, Double.NaN, 0, pass, note)));
    }

    void fail(String name, String why) {
        results.add(print(new Result(name, Double.NaN, Double.NaN, Double.NaN, 0, false, why)));
    }

    Result print(Result r) {
        if (!Double.isNaN(r.snrDb())) {
            out.printf(Locale.ROOT, "%-58s max_abs %.3e snr %7.2f dB  min %2.0f dB %s%n", r.name(), r.maxAbs(),
                    r.snrDb(), r.tolerance(), r.pass() ? "PASS" : "FAIL");
        } else if (Double.isNaN(r.rel()) && r.tolerance() == 0) {
            out.printf(Locale.ROOT, "%-58s %-37s %s%n", r.name(), r.note(), r.pass() ? "PASS" : "FAIL");
        } else if (Double.isNaN(r.rel())) {
            out.printf(Locale.ROOT, "%-58s max_abs %.3e            tol %.0e %s%n", r.name(), r.maxAbs(),
                    r.tolerance(), r.pass() ? "PASS" : "FAIL");
        } else {
            out.printf(Locale.ROOT, "%-58s max_abs %.3e rel %.3e tol %.0e %s%n", r.name(), r.maxAbs(), r.rel(),
                    r.tolerance(), r.pass() ? "PASS" : "FAIL");
        }
        return r;
    }
}
