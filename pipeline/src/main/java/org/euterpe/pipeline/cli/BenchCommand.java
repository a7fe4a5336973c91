package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.euterpe.kernels.Backends;
import org.euterpe.kernels.cpu.Parallel;
import org.euterpe.pipeline.AudioModel;
import org.euterpe.pipeline.BundledModel;
import org.euterpe.pipeline.LatentGeometry;
import org.euterpe.pipeline.RandomModel;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.WeightResidency;
import org.euterpe.pipeline.bench.DanceBench;
import org.euterpe.pipeline.bench.ModelBench;
import org.euterpe.pipeline.dance.DanceDiffusionPipeline;
import org.euterpe.pipeline.scheduler.SamplerKind;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.json.Json;

/**
 * {@code euterpe bench [MODEL] [options]}: times each stage of a model and the whole clip. A
 * folder of configs only (no weights) is built with seeded random weights, so full-size models
 * are measured without a download.
 */
final class BenchCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe bench [MODEL] [options]",
            "",
            "  --model PATH       a model converted by `euterpe convert`, a diffusers folder with weights,",
            "                     or a folder of configs only (built with random weights, written to a",
            "                     temporary file and memory-mapped as a converted model's are;",
            "                     <component>/config.json or <component>.json); default: the bundled tiny model",
            "  --random           random weights even when the folder has weights",
            "  --stage LIST       comma-separated: text_encoder,unet,vae_decode,vocoder,total (default all)",
            "  --seconds S        audio length (default 10)",
            "  --seconds-list L   comma-separated lengths, e.g. 5,10,20,40,80: each stage at each length, with its",
            "                     time per second of audio (long clips decode in tiles and vocode in chunks,",
            "                     as `generate` does)",
            "  --steps N          denoising steps of the whole clip (default 10)",
            "  --sampler NAME     sampler of the whole clip (default: the model's)",
            "  --repeat N         timed runs per stage after one warm-up (default 3; whole clip: 1 run, no warm-up)",
            "  --threads N        CPU worker threads (default: all cores)",
            "  --dtype D          f32|f16|bf16 (Stable Audio also int8): random weights' storage type (default f32)",
            "  --device D         auto|cpu|scalar|opencl[:N]|cuda[:N] (default cpu)",
            "  --seed N           seed of the random weights and inputs (default 0)",
            "  --keep-weights     keep each stage's weights resident after it (default: released, as",
            "                     `euterpe generate` does)",
            "  --json             print one JSON line instead of the table",
            "",
            "Dance Diffusion (a model or config folder whose model_index.json names DanceDiffusionPipeline):",
            "  stages unet (one U-Net step, batch 1) and total (a whole clip); --seconds defaults to the",
            "  training window (sample_size), --steps to 100. bench/configs/dance-diffusion-48k is the real",
            "  checkpoints' layout ([128,128,256,256,512x9], 65536 samples, stereo).",
            "",
            "Stable Audio (a config folder whose model_index.json names StableAudioPipeline; random weights):",
            "  stages text_encoder (T5 on 2 x model_max_length tokens), dit (one guided step, batch 2: the",
            "  model's full length, or the latent frames of --seconds when given), vae_decode (--seconds of",
            "  audio, default 10), vae_encode (--seconds of stereo audio, as --init-audio encodes) and total",
            "  (--steps guided steps, default 10, then the decode; not vae_encode). --dtype",
            "  f32|f16|bf16|int8 stores the random weights as `euterpe convert --dtype` would (bf16/int8 keep",
            "  T5 in f16, bf16 the VAE too). See bench/compare-sao-pytorch.sh for the same stages beside PyTorch.");

    private BenchCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args(argv, Set.of("--model", "--stage", "--seconds", "--seconds-list", "--steps", "--sampler", "--repeat",
                "--threads", "--dtype", "--device", "--seed"), Set.of("--random", "--json", "--keep-weights", "--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.positional().size() > 1 || (a.positional().size() == 1 && a.has("--model"))) {
            throw new Main.UsageException("give the model once (positional or --model); see --help");
        }
        String modelArg = a.has("--model") ? a.get("--model", null)
                : a.positional().isEmpty() ? null : a.positional().get(0);
        if (modelArg != null && Files.isDirectory(Path.of(modelArg))
                && org.euterpe.pipeline.stableaudio.StableAudioPipeline.isStableAudio(Path.of(modelArg))) {
            return stableAudio(a, Path.of(modelArg), out, err);
        }
        List<String> stages = a.has("--stage") ? Arrays.asList(a.get("--stage", "").split(",")) : ModelBench.STAGES;
        for (String s : stages) {
            if (!ModelBench.STAGES.contains(s)) {
                throw new Main.UsageException("unknown stage \"" + s + "\" (stages: " + String.join(",",
                        ModelBench.STAGES) + ")");
            }
        }
        double seconds = positive(a.doubleOpt("--seconds"), 10.0, "--seconds");
        int steps = (int) positive(a.intOpt("--steps") == null ? null : a.intOpt("--steps").doubleValue(), 10, "--steps");
        int repeat = (int) positive(a.intOpt("--repeat") == null ? null : a.intOpt("--repeat").doubleValue(), 3,
                "--repeat");
        SamplerKind sampler = a.has("--sampler") ? SamplerKind.fromCliName(a.get("--sampler", null)) : null;
        DType dtype = switch (a.get("--dtype", "f32").toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw new Main.UsageException("--dtype must be f32, f16 or bf16, got \"" + a.get("--dtype", "")
                    + "\"");
        };
        Integer threads = a.intOpt("--threads");
        if (threads != null) {
            if (threads < 1) {
                throw new Main.UsageException("--threads must be >= 1, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        long seed = a.longOpt("--seed") != null ? a.longOpt("--seed") : 0L;

        Path dir = modelArg != null ? Path.of(modelArg) : BundledModel.folder();
        boolean oneFile = Files.isRegularFile(dir);
        if (!oneFile && !Files.isDirectory(dir)) {
            throw new Main.UsageException(dir + " is not a model file, model folder or config folder");
        }
        if (oneFile && a.has("--random")) {
            throw new Main.UsageException("--random needs a folder of configs, not the converted model " + dir);
        }
        boolean random = !oneFile && (a.has("--random") || !Files.isRegularFile(dir.resolve("unet/config.json"))
                || !hasWeights(dir.resolve("unet")));
        WeightResidency residency = a.has("--keep-weights") ? WeightResidency.KEEP : WeightResidency.DEFAULT;
        if (DanceCommands.isDance(dir)) {
            return dance(a, dir, oneFile, dtype, seed, repeat, out, err);
        }
        Backend backend = Backends.open(a.get("--device", "cpu"), err::println);
        boolean json = a.has("--json");
        List<Double> lengths = a.has("--seconds-list") ? secondsList(a.get("--seconds-list", ""), a.has("--seconds"))
                : null;
        if (lengths != null) {
            return runLengths(out, err, json, dir, random, dtype, backend, stages, lengths, steps, sampler, repeat,
                    seed, residency);
        }
        ModelBench.Settings settings = new ModelBench.Settings(seconds, steps, sampler, repeat, seed,
                residency);
        List<ModelBench.Result> results = new ArrayList<>();
        double loadSeconds = 0;
        LatentGeometry geometry;
        Consumer<ModelBench.Result> print = r -> {
            if (!json) {
                out.printf(Locale.ROOT, "%-14s %10.3f %10.3f %10.1f %10.1f%n", r.stage(), r.medianSeconds(),
                        r.minSeconds(), r.gflops(), r.gflopsPerSecond());
            }
        };
        if (random) {
            // One stage at a time, each with only its own components' weights (as the PyTorch
            // harness builds them), so peak memory is that of the largest stage.
            geometry = RandomModel.geometry(dir, seconds);
            header(out, json, dir, "random " + dtype, backend, seconds, geometry);
            for (String stage : ModelBench.STAGES) {
                if (!stages.contains(stage)) {
                    continue;
                }
                long t0 = System.nanoTime();
                try (AudioModel model = RandomModel.build(dir, backend, dtype, seed, ModelBench.components(stage))) {
                    loadSeconds += (System.nanoTime() - t0) / 1e9;
                    // Building random weights leaves their heap copies as garbage (they now live in
                    // mapped files); a model loaded from a file makes none. Collect it before timing,
                    // so the heap G1 sized for the build does not carry into the stage's peak RSS.
                    System.gc();
                    results.addAll(new ModelBench(model, geometry, settings).run(List.of(stage), print));
                }
            }
        } else {
            long t0 = System.nanoTime();
            try (AudioModel model = AudioModel.load(dir, backend)) {
                loadSeconds = (System.nanoTime() - t0) / 1e9;
                geometry = ModelBench.geometry(model, seconds);
                header(out, json, dir, "loaded", backend, seconds, geometry);
                results.addAll(new ModelBench(model, geometry, settings).run(stages, print));
            }
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("model", dir.toString());
        extra.put("weights", random ? "random-" + dtype.name().toLowerCase(Locale.ROOT) : "loaded");
        extra.put("backend", backend.description());
        extra.put("threads", Parallel.threads());
        extra.put("seconds", seconds);
        extra.put("steps", steps);
        extra.put("latent_shape", Arrays.stream(geometry.latentShape()).boxed().toList());
        extra.put("load_s", loadSeconds);
        extra.put("weight_residency", residency.name().toLowerCase(Locale.ROOT));
        Map<String, Object> report = ModelBench.report(results, extra);
        if (json) {
            out.println(Json.write(report));
        } else {
            out.printf(Locale.ROOT, "weights built/loaded in %.1f s; peak RSS %.0f MiB%n", loadSeconds,
                    (Double) report.get("peak_rss_mb"));
        }
        return 0;
    }

    /** "5,10,20" as positive lengths; not with --seconds. */
    private static List<Double> secondsList(String list, boolean alsoSeconds) {
        if (alsoSeconds) {
            throw new Main.UsageException("give --seconds or --seconds-list, not both");
        }
        List<Double> lengths = new ArrayList<>();
        for (String part : list.split(",")) {
            try {
                double v = Double.parseDouble(part.trim());
                if (!(v > 0 && v <= 3600)) {
                    throw new NumberFormatException();
                }
                lengths.add(v);
            } catch (NumberFormatException e) {
                throw new Main.UsageException("--seconds-list takes lengths in (0, 3600] separated by commas, got \""
                        + part + "\"");
            }
        }
        return lengths;
    }

    /**
     * Each stage at each length, random models built once per stage, after one untimed warm-up run
     * at the shortest length of at least 10 s (the JIT's), none per length. Reports each stage's median
     * per length and per second of audio, and the spread of the latter (max / min) per stage.
     */
    private static int runLengths(PrintStream out, PrintStream err, boolean json, Path dir, boolean random, DType dtype,
            Backend backend, List<String> stages, List<Double> lengths, int steps, SamplerKind sampler, int repeat,
            long seed, WeightResidency residency) throws IOException {
        Map<String, Map<String, Object>> perLength = new LinkedHashMap<>();
        Map<String, Map<String, Double>> perSecond = new LinkedHashMap<>();
        double loadSeconds = 0;
        if (!json) {
            out.printf("%s (%s weights), %s%n", dir, random ? "random " + dtype : "loaded", backend.description());
            out.printf("%-14s %8s %10s %12s %8s %8s%n", "stage", "audio s", "median s", "s per audio s", "tiles",
                    "chunks");
        }
        AudioModel loaded = null;
        try {
            for (String stage : ModelBench.STAGES) {
                if (!stages.contains(stage)) {
                    continue;
                }
                long t0 = System.nanoTime();
                AudioModel model = random ? RandomModel.build(dir, backend, dtype, seed, ModelBench.components(stage))
                        : loaded != null ? loaded : (loaded = AudioModel.load(dir, backend));
                loadSeconds += (System.nanoTime() - t0) / 1e9;
                System.gc(); // the random build's garbage, as in the single-length run
                try {
                    // JIT warm-up at a mid-size length first: one untimed run at the first length
                    // (what each timed length gets anyway) leaves C2 still compiling on a short clip.
                    double warm = lengths.stream().mapToDouble(Double::doubleValue).filter(x -> x >= 10).min()
                            .orElse(lengths.stream().mapToDouble(Double::doubleValue).max().orElse(10));
                    LatentGeometry wg = random ? RandomModel.geometry(dir, warm) : ModelBench.geometry(model, warm);
                    new ModelBench(model, wg, new ModelBench.Settings(warm, steps, sampler, 1, seed, residency))
                            .run(List.of(stage), x -> { });
                    for (double s : lengths) {
                        LatentGeometry g = random ? RandomModel.geometry(dir, s) : ModelBench.geometry(model, s);
                        ModelBench.Settings settings = new ModelBench.Settings(s, steps, sampler, repeat, seed,
                                residency);
                        ModelBench.Result r = new ModelBench(model, g, settings).runWarm(stage);
                        int[] lat = g.latentShape();
                        int tiles = TextToAudioPipeline.VAE_TILING.tiles(lat[2]);
                        int frames = g.height();
                        // A random build holds only the stage's components: no vocoder, no chunk count.
                        int chunkFrames = model.vocoder() == null ? 0
                                : TextToAudioPipeline.vocoderChunkFrames(model.vocoder());
                        int chunks = chunkFrames == 0 ? -1
                                : frames > chunkFrames ? (frames + chunkFrames - 1) / chunkFrames : 1;
                        double per = r.medianSeconds() / s;
                        String key = String.valueOf(s);
                        Map<String, Object> entry = perLength.computeIfAbsent(key, k -> {
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("seconds", s);
                            m.put("latent_shape", Arrays.stream(lat).boxed().toList());
                            m.put("vae_tiles", tiles);
                            m.put("stages", new LinkedHashMap<String, Object>());
                            return m;
                        });
                        if (chunks > 0) {
                            entry.put("vocoder_chunks", chunks);
                        }
                        @SuppressWarnings("unchecked")
                        Map<String, Object> st = (Map<String, Object>) entry.get("stages");
                        ModelBench bench = new ModelBench(model, g, settings);
                        Map<String, Object> rj = ModelBench.report(List.of(r), Map.of());
                        @SuppressWarnings("unchecked")
                        Map<String, Object> sj = (Map<String, Object>) ((Map<?, ?>) rj.get("stages")).get(stage);
                        sj.put("estimated_peak_mb", bench.estimatedBytes(stage) / (double) (1 << 20));
                        st.put(stage, sj);
                        perSecond.computeIfAbsent(stage, k -> new LinkedHashMap<>()).put(key, per);
                        // progress on stderr even with --json, so a run stopped part way still tells
                        (json ? err : out).printf(Locale.ROOT, "%-14s %8.1f %10.3f %12.4f %8d %8s%n", stage, s,
                                r.medianSeconds(), per, tiles, chunks > 0 ? Integer.toString(chunks) : "-");
                    }
                } finally {
                    if (random) {
                        model.close();
                    }
                }
            }
        } finally {
            if (loaded != null) {
                loaded.close();
            }
        }
        Map<String, Object> spread = new LinkedHashMap<>();
        perSecond.forEach((stage, m) -> {
            double max = m.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
            double min = m.values().stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
            spread.put(stage, max / min);
        });
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("lengths", List.copyOf(perLength.values()));
        report.put("seconds_per_audio_second", perSecond);
        report.put("per_second_spread_max_over_min", spread);
        report.put("peak_rss_mb", ModelBench.peakRssMb());
        report.put("model", dir.toString());
        report.put("weights", random ? "random-" + dtype.name().toLowerCase(Locale.ROOT) : "loaded");
        report.put("backend", backend.description());
        report.put("threads", Parallel.threads());
        report.put("repeat", repeat);
        report.put("load_s", loadSeconds);
        report.put("vae_tiling", Map.of("tile_frames", TextToAudioPipeline.VAE_TILING.tileFrames(), "margin_frames",
                TextToAudioPipeline.VAE_TILING.marginFrames(), "blend_frames",
                TextToAudioPipeline.VAE_TILING.blendFrames()));
        report.put("vocoder_chunk_samples", TextToAudioPipeline.VOCODER_CHUNK_SAMPLES);
        if (json) {
            out.println(Json.write(report));
        } else {
            spread.forEach((stage, v) -> out.printf(Locale.ROOT, "%-14s time per audio second, max / min: %.3f%n",
                    stage, (Double) v));
            out.printf(Locale.ROOT, "weights built/loaded in %.1f s; peak RSS %.0f MiB%n", loadSeconds,
                    ModelBench.peakRssMb());
        }
        return 0;
    }

    /** The Dance Diffusion benchmark: a U-Net step and a whole clip (see {@link DanceBench}). */
    private static int dance(Args a, Path dir, boolean oneFile, DType dtype, long seed, int repeat, PrintStream out,
            PrintStream err) throws IOException {
        List<String> stages = a.has("--stage") ? Arrays.asList(a.get("--stage", "").split(",")) : DanceBench.STAGES;
        for (String s : stages) {
            if (!DanceBench.STAGES.contains(s)) {
                throw new Main.UsageException("unknown stage \"" + s + "\" for Dance Diffusion (stages: "
                        + String.join(",", DanceBench.STAGES) + ")");
            }
        }
        if (a.has("--sampler")) {
            throw new Main.UsageException("--sampler does not apply to Dance Diffusion (IPNDM only)");
        }
        Double seconds = a.has("--seconds") ? a.doubleOpt("--seconds") : null;
        int steps = a.has("--steps") ? a.intOpt("--steps") : DanceDiffusionPipeline.DEFAULT_STEPS;
        boolean random = !oneFile && (a.has("--random") || !hasWeights(dir.resolve("unet")));
        Backend backend = Backends.open(a.get("--device", "cpu"), err::println);
        boolean json = a.has("--json");
        Consumer<ModelBench.Result> print = r -> {
            if (!json) {
                out.printf(Locale.ROOT, "%-14s %10.3f %10.3f %10.1f %10.1f%n", r.stage(), r.medianSeconds(),
                        r.minSeconds(), r.gflops(), r.gflopsPerSecond());
            }
        };
        if (!json) {
            out.printf(Locale.ROOT, "%s (%s weights), %s, %d steps%n", dir, random ? "random " + dtype : "loaded",
                    backend.description(), steps);
            out.printf("%-14s %10s %10s %10s %10s%n", "stage", "median s", "min s", "GFLOP", "GFLOP/s");
        }
        DanceBench.Outcome o = DanceBench.run(dir, random, backend, dtype, seed, seconds, steps, repeat, stages, print);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("model", dir.toString());
        extra.put("family", DanceDiffusionPipeline.PIPELINE_CLASS);
        extra.put("weights", o.weights());
        extra.put("backend", backend.description());
        extra.put("threads", Parallel.threads());
        extra.put("seconds", o.geometry().seconds());
        extra.put("samples", o.geometry().padded());
        extra.put("steps", steps);
        extra.put("load_s", o.loadSeconds());
        Map<String, Object> report = ModelBench.report(o.results(), extra);
        if (json) {
            out.println(Json.write(report));
        } else {
            out.printf(Locale.ROOT, "%d samples per channel (%.2f s); weights built/loaded in %.1f s; peak RSS %.0f"
                    + " MiB%n", o.geometry().padded(), o.geometry().seconds(), o.loadSeconds(),
                    (Double) report.get("peak_rss_mb"));
        }
        return 0;
    }

    private static void header(PrintStream out, boolean json, Path dir, String weights, Backend backend,
            double seconds, LatentGeometry geometry) {
        if (!json) {
            out.printf(Locale.ROOT, "%s (%s weights), %s, %.1f s of audio, latent %s%n", dir, weights,
                    backend.description(), seconds, Arrays.toString(geometry.latentShape()));
            out.printf("%-14s %10s %10s %10s %10s%n", "stage", "median s", "min s", "GFLOP", "GFLOP/s");
        }
    }

    private static boolean hasWeights(Path componentDir) throws IOException {
        try (var files = Files.list(componentDir)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".safetensors"));
        }
    }

    private static double positive(Double v, double dflt, String name) {
        if (v == null) {
            return dflt;
        }
        if (!(v > 0)) {
            throw new Main.UsageException(name + " must be positive, got " + v);
        }
        return v;
    }

    /**
     * A Stable Audio folder (configs, random weights): stages text_encoder, dit (one guided step),
     * vae_decode (of --seconds of audio) and total (--steps steps).
     */
    private static int stableAudio(Args a, Path dir, PrintStream out, PrintStream err) throws IOException {
        List<String> stages = a.has("--stage") ? Arrays.asList(a.get("--stage", "").split(","))
                : org.euterpe.pipeline.bench.StableAudioBench.DEFAULT_STAGES;
        for (String s : stages) {
            if (!org.euterpe.pipeline.bench.StableAudioBench.STAGES.contains(s)) {
                throw new Main.UsageException("unknown stage \"" + s + "\" for Stable Audio (stages: " + String.join(",",
                        org.euterpe.pipeline.bench.StableAudioBench.STAGES) + ")");
            }
        }
        double seconds = positive(a.doubleOpt("--seconds"), 10.0, "--seconds");
        int steps = (int) positive(a.intOpt("--steps") == null ? null : a.intOpt("--steps").doubleValue(), 10, "--steps");
        int repeat = (int) positive(a.intOpt("--repeat") == null ? null : a.intOpt("--repeat").doubleValue(), 3,
                "--repeat");
        if (a.intOpt("--threads") != null) {
            Parallel.setThreads(a.intOpt("--threads"));
        }
        long seed = a.longOpt("--seed") != null ? a.longOpt("--seed") : 0L;
        DType dtype;
        try {
            dtype = org.euterpe.converter.Precision.parseDType(a.get("--dtype", "f32"));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--dtype: " + e.getMessage());
        }
        Backend backend = Backends.open(a.get("--device", "cpu"), err::println);
        var bench = new org.euterpe.pipeline.bench.StableAudioBench(dir, backend, seed, seconds, steps, repeat)
                .withDType(dtype);
        boolean json = a.has("--json");
        if (!json) {
            out.println("model    " + dir + " (Stable Audio, " + bench.weightsDescription() + " weights)");
            out.println("device   " + backend.description());
            out.printf(Locale.ROOT, "%-14s %10s %10s %10s %10s%n", "stage", "median s", "min s", "GFLOP", "GFLOP/s");
        }
        if (a.has("--seconds")) {
            bench.withDitSeconds(seconds); // as the PyTorch harness's --seconds; default: the model's full length
        }
        List<ModelBench.Result> results = bench.run(stages, r -> {
                    if (!json) {
                        out.printf(Locale.ROOT, "%-14s %10.3f %10.3f %10.1f %10.1f%n", r.stage(), r.medianSeconds(),
                                r.minSeconds(), r.gflops(), r.gflopsPerSecond());
                    }
                });
        if (json) {
            java.util.Map<String, Object> extra = new java.util.LinkedHashMap<>();
            extra.put("model", dir.toString());
            extra.put("weights", bench.weightsDescription());
            extra.put("dtype", a.get("--dtype", "f32").toLowerCase(Locale.ROOT));
            extra.put("seconds", seconds);
            extra.put("steps", (long) steps);
            out.println(org.euterpe.tensor.json.Json.write(ModelBench.report(results, extra)));
        } else {
            out.printf(Locale.ROOT, "peak RSS %.0f MiB%n", ModelBench.peakRssMb());
        }
        return 0;
    }
}
