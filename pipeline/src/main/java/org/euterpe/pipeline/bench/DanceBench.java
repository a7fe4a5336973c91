package org.euterpe.pipeline.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.nn.dance.UNet1DConfig;
import org.euterpe.nn.dance.UNet1DModel;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.RandomModel;
import org.euterpe.pipeline.dance.DanceDiffusionPipeline;
import org.euterpe.pipeline.dance.DanceGeometry;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Times Dance Diffusion: one U-Net step (batch 1, the chosen length, t = 0.5) and a whole clip
 * ({@code steps} IPNDM steps through {@link DanceDiffusionPipeline#generate}), with seeded random
 * weights built from {@code unet/config.json} (mapped from a temporary file, as a converted
 * model's are) or a model's real weights. The U-Net step is run once untimed (JIT warm-up), then
 * {@code repeat} times; the clip once.
 */
public final class DanceBench {
    /** The stages of a Dance Diffusion benchmark. */
    public static final List<String> STAGES = List.of("unet", "total");

    private DanceBench() {
    }

    /** What {@link #run} measured, and the geometry it ran at. */
    public record Outcome(List<ModelBench.Result> results, DanceGeometry geometry, double loadSeconds, String weights) {
    }

    /**
     * @param dir     a Dance Diffusion folder (configs only: random weights) or model
     * @param seconds null for the training window
     */
    public static Outcome run(Path dir, boolean random, Backend backend, DType dtype, long seed, Double seconds,
            int steps, int repeat, List<String> stages, Consumer<ModelBench.Result> done) throws IOException {
        for (String s : stages) {
            if (!STAGES.contains(s)) {
                throw new IllegalArgumentException("unknown stage \"" + s + "\" for Dance Diffusion (stages: "
                        + String.join(",", STAGES) + ")");
            }
        }
        long t0 = System.nanoTime();
        List<AutoCloseable> owners = new ArrayList<>();
        DanceDiffusionPipeline pipe;
        if (random) {
            Path config = dir.resolve("unet").resolve("config.json");
            if (!Files.isRegularFile(config)) {
                throw new ModelLoadException(dir + ": no unet/config.json");
            }
            UNet1DConfig c = UNet1DConfig.read(ComponentFiles.readConfig(config));
            Weights w = RandomModel.mappedRandomWeights(backend, "unet", seed, dtype, owners);
            UNet1DModel unet = UNet1DModel.load(w, c);
            pipe = new DanceDiffusionPipeline(unet, backend, Map.of("unet", Set.of(dtype)), () -> {
                for (AutoCloseable o : owners) {
                    o.close();
                }
            }, "random " + dtype);
        } else {
            pipe = DanceDiffusionPipeline.load(dir, backend, org.euterpe.converter.Precision.AS_STORED);
        }
        double load = (System.nanoTime() - t0) / 1e9;
        System.gc(); // the random weights' heap copies are garbage now (see BenchCommand)
        try (DanceDiffusionPipeline p = pipe) {
            DanceGeometry geo = p.geometry(seconds);
            List<ModelBench.Result> results = new ArrayList<>();
            for (String stage : STAGES) {
                if (!stages.contains(stage)) {
                    continue;
                }
                ModelBench.Result r = stage.equals("unet") ? unetStep(p, geo, seed, repeat) : clip(p, geo, seed, steps);
                results.add(r);
                done.accept(r);
            }
            return new Outcome(results, geo, load, random ? "random-" + dtype.name().toLowerCase(java.util.Locale.ROOT)
                    : "loaded");
        }
    }

    private static ModelBench.Result unetStep(DanceDiffusionPipeline p, DanceGeometry geo, long seed, int repeat) {
        Backend backend = p.backend();
        try (Scope scope = Scope.open()) {
            Tensor x = backend.randn(Shape.of(1, p.channels(), geo.padded()), seed);
            ModelBench.Result r = ModelBench.time("unet", () -> {
                try (Scope s = Scope.open()) {
                    p.unet().forward(x, new float[] {0.5f}).toFloatArray();
                }
            }, repeat);
            return r;
        }
    }

    private static ModelBench.Result clip(DanceDiffusionPipeline p, DanceGeometry geo, long seed, int steps) {
        GenerationRequest request = GenerationRequest.builder().seconds(geo.seconds()).steps(steps).seed(seed).build();
        return ModelBench.time("total", () -> p.generate(request, ProgressListener.NONE), 1);
    }
}
