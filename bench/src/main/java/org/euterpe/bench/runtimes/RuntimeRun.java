package org.euterpe.bench.runtimes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.kernels.cpu.Parallel;
import org.euterpe.pipeline.bench.ModelBench;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;

/**
 * One timed run of one stage on one runtime, in its own process (bench/compare-runtimes.sh starts one
 * per runtime, stage and round): loads the stage from the export folder, runs it --warmup times untimed, then
 * {@code --repeat} timed runs on the exported inputs, writes the last output as {@code .npy} and prints
 * one JSON line (runs_s, load_s, peak_rss_mb, version). Session or model creation is not timed.
 *
 * <pre>
 * RuntimeRun --runtime engine|ort|djl --work DIR --stage text_encoder|unet|vae_decode|vocoder|clip
 *            [--repeat N] [--warmup N] [--threads N] [--out FILE.npy] [--variant bf16|int8]
 *            [--profile PREFIX]
 * </pre>
 * ONNX Runtime and DJL are on the class path only in the bench module's {@code runtimes} Maven profile.
 */
public final class RuntimeRun {
    private RuntimeRun() {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
                usage("bad argument " + argv[i]);
            }
            a.put(argv[i].substring(2), argv[++i]);
        }
        for (String k : a.keySet()) {
            if (!List.of("runtime", "work", "stage", "repeat", "warmup", "threads", "out", "variant",
                    "profile").contains(k)) {
                usage("unknown option --" + k);
            }
        }
        String runtime = req(a, "runtime");
        Path work = Path.of(req(a, "work"));
        String stage = req(a, "stage");
        int repeat = Integer.parseInt(a.getOrDefault("repeat", "3"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "1"));
        int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
        String variant = a.get("variant");
        String profile = a.get("profile");
        if (repeat < 1 || threads < 1 || warmup < 1) {
            usage("--repeat, --warmup and --threads must be >= 1");
        }
        Path manifestPath = work.resolve("manifest.json");
        JsonObject manifest = new JsonObject(Json.parseLenient(Files.readString(manifestPath), manifestPath.toString()),
                manifestPath.toString());
        JsonObject stages = manifest.getObject("stages");
        if (!stages.has(stage)) {
            usage("stage " + stage + " was not exported to " + work);
        }
        JsonObject st = stages.getObject(stage);
        List<Npy> inputs = new ArrayList<>();
        for (Object o : st.getList("inputs")) {
            JsonObject in = new JsonObject(o, manifestPath + ": input");
            inputs.add(Npy.read(in.getString("name"), work.resolve(in.getString("file"))));
        }
        long[] outShape = st.getList("output_shape").stream()
                .mapToLong(x -> ((Number) x).longValue()).toArray();

        long t0 = System.nanoTime();
        try (StageRuntime rt = open(runtime, variant, threads, profile)) {
            StageRuntime.Stage body;
            if (stage.equals("clip")) {
                Clip clip = new Clip(work, manifest, rt);
                body = clip::run;
            } else {
                body = rt.load(work, stage);
            }
            double loadS = (System.nanoTime() - t0) / 1e9;
            float[] out = null;
            for (int i = 0; i < warmup; i++) { // untimed (libtorch's JIT profiles its first runs, then optimises)
                out = body.run(inputs);
            }
            List<Double> runs = new ArrayList<>();
            for (int i = 0; i < repeat; i++) {
                long s = System.nanoTime();
                out = body.run(inputs);
                runs.add((System.nanoTime() - s) / 1e9);
            }
            body.close();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("runtime", runtime + (variant != null ? "-" + variant : ""));
            r.put("stage", stage);
            r.put("runs_s", runs);
            r.put("load_s", loadS);
            r.put("peak_rss_mb", ModelBench.peakRssMb());
            r.put("version", rt.version());
            r.put("threads", threads);
            if (a.containsKey("out")) {
                Path p = Path.of(a.get("out"));
                Npy.writeFloats(p, outShape, out);
                r.put("output", p.toString());
            }
            System.out.println(Json.write(r));
        }
    }

    /** The runtime; ONNX Runtime's and DJL's classes are looked up by name (absent outside the profile). */
    static StageRuntime open(String runtime, String variant, int threads, String profile) throws Exception {
        switch (runtime) {
            case "engine" -> {
                if (variant != null && !List.of("bf16", "int8", "f16").contains(variant)) {
                    usage("engine variants: bf16, int8, f16");
                }
                Parallel.setThreads(threads);
                return new EngineRuntime(variant);
            }
            case "ort", "djl" -> {
                String cls = runtime.equals("ort") ? "org.euterpe.bench.runtimes.ort.OrtRuntime"
                        : "org.euterpe.bench.runtimes.djl.DjlRuntime";
                try {
                    return (StageRuntime) Class.forName(cls)
                            .getConstructor(int.class, String.class, String.class).newInstance(threads, variant, profile);
                } catch (ClassNotFoundException | NoClassDefFoundError e) {
                    throw new IllegalStateException(runtime + " is not on the class path: build the bench module with"
                            + " -Pruntimes (bench/compare-runtimes.sh does)", e);
                }
            }
            default -> {
                usage("--runtime must be engine, ort or djl");
                return null;
            }
        }
    }

    private static String req(Map<String, String> a, String k) {
        String v = a.get(k);
        if (v == null) {
            usage("--" + k + " is required");
        }
        return v;
    }

    private static void usage(String msg) {
        throw new IllegalArgumentException("RuntimeRun: " + msg
                + "\nusage: RuntimeRun --runtime engine|ort|djl --work DIR --stage STAGE [--repeat N] [--warmup N] [--threads N]"
                + " [--out FILE.npy] [--variant V] [--profile PREFIX]");
    }
}
