package org.euterpe.pipeline.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import org.euterpe.nn.FlopCounter;
import org.euterpe.nn.PartProgress;
import org.euterpe.nn.vocoder.HifiGanConfig;
import org.euterpe.pipeline.AudioModel;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.LatentGeometry;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.ResourceEstimate;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.WeightResidency;
import org.euterpe.pipeline.scheduler.SamplerKind;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Times each stage of a pipeline and the whole clip, on the inputs the PyTorch reference harness
 * ({@code shared/reference/time_fullsize.py}) uses: one U-Net forward with a CFG batch of 2, VAE
 * decode and vocoder of one clip, the text encoder on 2 prompts of 21 real tokens (padded to the
 * tokenizer's max length, as the reference pads them), and the whole clip through
 * {@link TextToAudioPipeline#generate}. The VAE decode and the vocoder run as the pipeline runs them: in
 * tiles and chunks past {@link TextToAudioPipeline#VAE_TILING} and
 * {@link TextToAudioPipeline#vocoderChunkFrames}. Each stage but the whole clip is run once untimed (JIT
 * warm-up), then timed; the whole clip is timed once.
 */
public final class ModelBench {
    /** The stages, in the order they run. */
    public static final List<String> STAGES = List.of("text_encoder", "unet", "vae_decode", "vocoder", "total");

    /**
     * What to run.
     *
     * @param residency what happens to a stage's mapped weights once it is done: in the whole clip
     *                  as {@link TextToAudioPipeline} does it, and after each single-stage benchmark
     */
    public record Settings(double seconds, int steps, SamplerKind sampler, int repeat, long seed,
            WeightResidency residency) {
    }

    /** One stage's result. */
    public record Result(String stage, double[] runsSeconds, long flops) {
        public double medianSeconds() {
            double[] s = runsSeconds.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        public double minSeconds() {
            return Arrays.stream(runsSeconds).min().orElse(Double.NaN);
        }

        public double gflops() {
            return flops / 1e9;
        }

        public double gflopsPerSecond() {
            return gflops() / medianSeconds();
        }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("median_s", medianSeconds());
            m.put("min_s", minSeconds());
            m.put("runs_s", Arrays.stream(runsSeconds).boxed().toList());
            m.put("gflop", gflops());
            m.put("gflops_per_s", gflopsPerSecond());
            return m;
        }
    }

    private final AudioModel model;
    private final Settings settings;
    private final LatentGeometry geometry;

    /**
     * @param model    holds at least the components of the stages that will run
     * @param geometry the latent geometry of one clip of {@code settings.seconds()}
     */
    public ModelBench(AudioModel model, LatentGeometry geometry, Settings settings) {
        this.model = model;
        this.settings = settings;
        this.geometry = geometry;
    }

    /** The latent geometry of one clip of {@code seconds} for a model with every component. */
    public static LatentGeometry geometry(AudioModel model, double seconds) {
        HifiGanConfig voc = model.vocoder().config();
        return LatentGeometry.of(seconds, 1, model.unet().inChannels(), model.vae().vaeScaleFactor(),
                voc.modelInDim(), voc.upsampleRates(), voc.samplingRate(), model.unetSampleSize());
    }

    /** The components {@code stage} runs. */
    public static Set<String> components(String stage) {
        return switch (stage) {
            case "text_encoder" -> Set.of("text_encoder");
            case "unet" -> Set.of("unet");
            case "vae_decode" -> Set.of("vae");
            case "vocoder" -> Set.of("vocoder");
            case "total" -> Set.of("text_encoder", "unet", "vae", "vocoder");
            default -> throw new IllegalArgumentException("unknown stage \"" + stage + "\" (stages: " + STAGES + ")");
        };
    }

    /** The latent shape of one clip, {@code [1, channels, height, width]}. */
    public int[] latentShape() {
        return geometry.latentShape().clone();
    }

    /**
     * The pre-flight estimate of the heap {@code stage} needs at its peak, in bytes, as
     * {@link ResourceEstimate} counts it for the pipeline (one tile or chunk when tiled), or -1
     * for the text encoder and the whole clip (not estimated per stage here).
     */
    public long estimatedBytes(String stage) {
        int[] lat = geometry.latentShape();
        return switch (stage) {
            case "unet" -> (long) ResourceEstimate.unet(model.unet().levels(), lat[1], 2, lat[2], lat[3])[0];
            case "vae_decode" -> (long) ResourceEstimate.vae(model.vae(), 1,
                    TextToAudioPipeline.VAE_TILING.tileLength(lat[2]), lat[3])[0];
            case "vocoder" -> {
                int frames = geometry.height();
                int chunk = TextToAudioPipeline.vocoderChunkFrames(model.vocoder());
                int chunks = (frames + chunk - 1) / chunk;
                long len = chunks == 1 ? frames
                        : (frames + chunks - 1) / chunks + 2L * model.vocoder().receptiveFieldFrames();
                yield (long) ResourceEstimate.vocoder(model.vocoder().config(), 1, len)[0];
            }
            default -> -1;
        };
    }

    /** Runs {@code stages} in {@link #STAGES} order, handing each result to {@code done} as it finishes. */
    public List<Result> run(List<String> stages, Consumer<Result> done) {
        List<Result> results = new ArrayList<>();
        for (String stage : STAGES) {
            if (stages.contains(stage)) {
                Result r = time(stage, body(stage), stage.equals("total") ? 1 : settings.repeat());
                if (!stage.equals("total")) { // the whole clip's pipeline does this itself
                    components(stage).forEach(c -> settings.residency().stageDone(model, c));
                }
                results.add(r);
                done.accept(r);
            }
        }
        return results;
    }

    private Runnable body(String stage) {
        Backend backend = model.backend();
        int[] lat = geometry.latentShape();
        SplittableRandom rng = new SplittableRandom(settings.seed());
        return switch (stage) {
            case "text_encoder" -> {
                long[][][] batch = promptBatch(rng);
                yield () -> model.textEncoder().promptEmbeds(batch[0], batch[1]).toFloatArray();
            }
            case "unet" -> {
                Tensor x = backend.randn(Shape.of(2, lat[1], lat[2], lat[3]), settings.seed());
                int labelDim = model.unet().classEmbeddingInputDim();
                Tensor labels = labelDim == 0 ? null
                        : backend.l2Normalize(backend.randn(Shape.of(2, labelDim), settings.seed() + 1), 1e-12f);
                yield () -> model.unet().forward(x, 500f, null, labels).toFloatArray();
            }
            case "vae_decode" -> {
                float inv = (float) (1.0 / model.vae().scalingFactor().orElse(1.0));
                Tensor z = backend.scalar(BinaryOp.MUL, backend.randn(Shape.of(lat), settings.seed()), inv);
                // As the pipeline decodes: in tiles past its threshold, in one piece below it.
                yield () -> model.vae().decodeTiled(z, TextToAudioPipeline.VAE_TILING, PartProgress.NONE)
                        .toFloatArray();
            }
            case "vocoder" -> {
                int bins = model.vocoder().config().modelInDim();
                Tensor mel = backend.randn(Shape.of(1, geometry.height(), bins), settings.seed());
                yield () -> model.vocoder().forwardChunked(mel, TextToAudioPipeline.vocoderChunkFrames(model.vocoder()),
                        PartProgress.NONE).toFloatArray();
            }
            case "total" -> {
                TextToAudioPipeline pipe = new TextToAudioPipeline(model, settings.residency());
                GenerationRequest.Builder request = GenerationRequest.builder("a dog barking in the rain")
                        .seconds(settings.seconds()).steps(settings.steps()).seed(settings.seed());
                if (settings.sampler() != null) {
                    request.sampler(settings.sampler());
                }
                GenerationRequest built = request.build();
                yield () -> pipe.generate(built, ProgressListener.NONE);
            }
            default -> throw new IllegalArgumentException("unknown stage \"" + stage + "\" (stages: " + STAGES + ")");
        };
    }

    /**
     * Two prompts as the reference harness makes them: {@code <s>}, 19 random tokens, {@code </s>},
     * then padding to the tokenizer's max length. Returns {ids, mask}.
     */
    private long[][][] promptBatch(SplittableRandom rng) {
        int len = model.tokenizer().modelMaxLength();
        int vocab = model.textEncoder().config().vocabSize();
        long[][] ids = new long[2][len];
        long[][] mask = new long[2][len];
        for (int b = 0; b < 2; b++) {
            Arrays.fill(ids[b], model.tokenizer().padTokenId());
            ids[b][0] = model.tokenizer().clsTokenId();
            for (int i = 1; i < 20; i++) {
                ids[b][i] = 4 + rng.nextInt(vocab - 4);
            }
            ids[b][20] = model.tokenizer().sepTokenId();
            Arrays.fill(mask[b], 0, 21, 1L);
        }
        return new long[][][] {ids, mask};
    }

    /**
     * {@code stage} timed {@code settings.repeat()} times with no warm-up run of its own, for a
     * series of lengths after one warm-up at a mid-size length (a warm-up per length would double
     * the cost of the longest ones).
     */
    public Result runWarm(String stage) {
        Result r = time(stage, body(stage), settings.repeat(), false);
        components(stage).forEach(c -> settings.residency().stageDone(model, c));
        return r;
    }

    static Result time(String stage, Runnable body, int repeat) {
        return time(stage, body, repeat, true);
    }

    private static Result time(String stage, Runnable body, int repeat, boolean warmUp) {
        if (warmUp && !stage.equals("total")) { // the whole clip is long enough to warm up in its first step
            try (Scope warm = Scope.open()) {
                body.run(); // JIT warm-up, untimed
            }
        }
        FlopCounter.reset();
        double[] runs = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            try (Scope scope = Scope.open()) {
                long t0 = System.nanoTime();
                body.run();
                runs[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return new Result(stage, runs, FlopCounter.flops() / repeat);
    }

    /** The process's peak resident set (VmHWM) in MiB, or -1 where /proc is not available. */
    public static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: no figure
        }
        return -1;
    }

    /** The one-line JSON report: {"stages": {name: {...}}, "peak_rss_mb": ..., plus {@code extra}}. */
    public static Map<String, Object> report(List<Result> results, Map<String, Object> extra) {
        Map<String, Object> stages = new LinkedHashMap<>();
        for (Result r : results) {
            stages.put(r.stage(), r.toJson());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("stages", stages);
        out.put("peak_rss_mb", peakRssMb());
        out.putAll(extra);
        return out;
    }
}
