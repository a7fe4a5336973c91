package org.euterpe.pipeline.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.euterpe.converter.Precision;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.FlopCounter;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.nn.oobleck.AutoencoderOobleck;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.RandomModel;
import org.euterpe.pipeline.stableaudio.StableAudioPipeline;
import org.euterpe.nn.stableaudio.RotaryEmbedding;
import org.euterpe.nn.stableaudio.StableAudioDiTModel;
import org.euterpe.nn.t5.T5EncoderModel;
import org.euterpe.pipeline.scheduler.CosineDPMSolverMultistepScheduler;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.NormalNoise;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;

/**
 * Times a Stable Audio model built from its configs with seeded random weights (as the PyTorch harness of
 * {@code shared/reference-sao} does): T5 on two prompts of {@code model_max_length} tokens, one DiT step with
 * guidance (batch 2, the model's {@code sample_size} frames, as diffusers always generates, or with
 * {@link #withDitSeconds} the latent frames of that many seconds, {@code ceil(s * rate / hop)}, as the PyTorch
 * harness's {@code --seconds}), the Oobleck decode
 * of {@code seconds} of audio, and the whole clip (T5, {@code steps} guided DiT steps with the sampler, decode).
 *
 * <p>Each stage builds only its own components, and closes their weights when it is done. The weights are
 * written to temporary files and memory-mapped back ({@link RandomModel#mappedRandomWeights}), in the dtypes
 * {@code euterpe convert --dtype} would store them in ({@link Precision#recommended}: bf16 and int8 keep T5 in
 * f16, bf16 also the VAE; int8 matrices quantised per row with their scales), so the stages run the code paths
 * and hold the memory of a converted file: the Oobleck VAE's weight-normalised {@code weight_g / weight_v} are
 * folded into F32 heap weights at load, as a real checkpoint's are, whatever its dtype.
 */
public final class StableAudioBench {
    public static final List<String> STAGES = List.of("text_encoder", "dit", "vae_decode", "vae_encode", "total");
    /** What {@code bench} runs without {@code --stage}: the stages of a text-to-audio generation. */
    public static final List<String> DEFAULT_STAGES = List.of("text_encoder", "dit", "vae_decode", "total");

    private final Path dir;
    private final Backend backend;
    private final long seed;
    private final double seconds;
    private final int steps;
    private final int repeat;
    private Double ditSeconds; // null: the model's sample_size frames
    private DType dtype = DType.F32;
    private Precision precision = Precision.recommended(DType.F32);

    public StableAudioBench(Path configDir, Backend backend, long seed, double seconds, int steps, int repeat) {
        this.dir = configDir;
        this.backend = backend;
        this.seed = seed;
        this.seconds = seconds;
        this.steps = steps;
        this.repeat = repeat;
    }

    /** The DiT stage at the latent frames of {@code s} seconds instead of the model's full length. */
    public StableAudioBench withDitSeconds(double s) {
        this.ditSeconds = s;
        return this;
    }

    /**
     * Weights as {@code euterpe convert --dtype d} stores them: F32, F16, BF16 or I8, with
     * {@link Precision#recommended}'s per-component overrides.
     */
    public StableAudioBench withDType(DType d) {
        if (d != DType.F32 && d != DType.F16 && d != DType.BF16 && d != DType.I8) {
            throw new IllegalArgumentException("Stable Audio bench weights are f32, f16, bf16 or int8, not " + d);
        }
        this.dtype = d;
        this.precision = Precision.recommended(d);
        return this;
    }

    /** The weights' dtype as asked for ({@code f16}, ...), and per component as stored (e.g. "I8 (text_encoder: F16)"). */
    public String weightsDescription() {
        return "random-" + (dtype == DType.I8 ? "int8" : dtype.name().toLowerCase(java.util.Locale.ROOT)) + " ("
                + precision.describe() + ")";
    }

    private Config config(String component) throws IOException {
        return ComponentFiles.readConfig(dir.resolve(component).resolve("config.json"));
    }

    /** {@code component}'s random weights, mapped from a temporary file that {@code owners} closes. */
    private Weights random(String component, List<AutoCloseable> owners) throws IOException {
        return RandomModel.mappedRandomWeights(backend, component, seed, precision, owners);
    }

    private int tokens() throws IOException {
        Path f = dir.resolve("tokenizer/tokenizer_config.json");
        if (Files.isRegularFile(f)) {
            Object v = ((java.util.Map<?, ?>) Json.parse(Files.readString(f))).get("model_max_length");
            if (v instanceof Number n && n.intValue() > 0 && n.doubleValue() < 100_000) {
                return n.intValue();
            }
        }
        return 128;
    }

    /** Runs {@code stages}, handing each result to {@code done}. */
    public List<ModelBench.Result> run(List<String> stages, Consumer<ModelBench.Result> done) throws IOException {
        List<ModelBench.Result> out = new ArrayList<>();
        for (String stage : stages) {
            if (!STAGES.contains(stage)) {
                throw new IllegalArgumentException("unknown stage " + stage + " (" + STAGES + ")");
            }
        }
        for (String stage : stages) {
            List<AutoCloseable> owners = new ArrayList<>();
            ModelBench.Result r;
            try {
                r = switch (stage) {
                    case "text_encoder" -> textEncoder(owners);
                    case "dit" -> dit(owners);
                    case "vae_decode" -> vaeDecode(owners);
                    case "vae_encode" -> vaeEncode(owners);
                    default -> total(owners);
                };
            } finally {
                // the stage's models are unreachable now: unmap and delete their weights, so the next
                // stage's peak memory is its own (as euterpe generate releases each stage's weights)
                RandomModel.closeAll(owners);
            }
            done.accept(r);
            out.add(r);
        }
        return out;
    }

    private long[][][] ids(int vocab) throws IOException {
        int length = tokens();
        long[][] ids = new long[2][length];
        long[][] mask = new long[2][length];
        float[] u = NormalNoise.sample(seed, 2 * length);
        for (int b = 0; b < 2; b++) {
            int real = b == 0 ? length : length / 3;
            for (int i = 0; i < length; i++) {
                ids[b][i] = i < real ? (long) (Math.abs(u[b * length + i]) * 997) % vocab : 0;
                mask[b][i] = i < real ? 1 : 0;
            }
        }
        return new long[][][] {ids, mask};
    }

    private ModelBench.Result textEncoder(List<AutoCloseable> owners) throws IOException {
        T5EncoderModel t5 = T5EncoderModel.load(random("text_encoder", owners), config("text_encoder"));
        long[][][] in = ids(t5.config().vocabSize());
        System.gc();
        return time("text_encoder", () -> t5.forward(in[0], in[1], Trace.NONE), repeat, true);
    }

    private ModelBench.Result dit(List<AutoCloseable> owners) throws IOException {
        StableAudioDiTModel dit = StableAudioDiTModel.load(random("transformer", owners), config("transformer"));
        var c = dit.config();
        int frames = c.sampleSize();
        if (ditSeconds != null) {
            Config v = config("vae");
            int hop = 1;
            for (int r : v.getIntArray("downsampling_ratios")) {
                hop *= r;
            }
            frames = Math.max(1, (int) Math.ceil(ditSeconds * v.getInt("sampling_rate") / hop));
        }
        Tensor x = backend.fromArray(NormalNoise.sample(seed + 1, 2 * c.inChannels() * frames),
                Shape.of(2, c.inChannels(), frames));
        Tensor cross = backend.fromArray(NormalNoise.sample(seed + 2, 2 * (tokens() + 2) * c.crossAttentionInputDim()),
                Shape.of(2, tokens() + 2, c.crossAttentionInputDim()));
        Tensor global = backend.fromArray(NormalNoise.sample(seed + 3, 2 * c.globalStatesInputDim()),
                Shape.of(2, 1, c.globalStatesInputDim()));
        RotaryEmbedding rotary = RotaryEmbedding.of(backend, c.rotaryEmbedDim(), frames + 1);
        System.gc();
        return time("dit", () -> dit.forward(x, new float[] {0.9f, 0.9f}, cross, global, rotary, Trace.NONE),
                repeat, true);
    }

    private int decodeFrames(AutoencoderOobleck vae, int maxFrames) {
        int hop = vae.config().hopLength();
        return Math.max(1, Math.min(maxFrames, (int) Math.ceil(seconds * vae.config().samplingRate() / hop)));
    }

    /** The VAE, its file's pages released after load as {@code StableAudioPipeline.load} releases them. */
    private AutoencoderOobleck vae(List<AutoCloseable> owners) throws IOException {
        List<AutoCloseable> own = new ArrayList<>();
        try {
            AutoencoderOobleck vae = AutoencoderOobleck.load(random("vae", own), config("vae"));
            RandomModel.releaseResident(own);
            return vae;
        } finally {
            owners.addAll(own);
        }
    }

    private ModelBench.Result vaeDecode(List<AutoCloseable> owners) throws IOException {
        AutoencoderOobleck vae = vae(owners);
        int frames = decodeFrames(vae, config("transformer").optInt("sample_size", 1024));
        int ch = vae.config().decoderInputChannels();
        Tensor z = backend.fromArray(NormalNoise.sample(seed + 4, ch * frames), Shape.of(1, ch, frames));
        System.gc();
        // as the pipeline decodes: in tiles past StableAudioPipeline.DECODE_TILE_FRAMES
        return time("vae_decode", () -> StableAudioPipeline.decodeLatents(vae, z, ProgressListener.NONE), repeat,
                true);
    }

    /**
     * The Oobleck encode of {@code seconds} of stereo noise (batch 1, whole latent frames), as {@code --init-audio}
     * encodes its clip (the pipeline always encodes the model's full length: 47.55 s for Stable Audio Open).
     */
    private ModelBench.Result vaeEncode(List<AutoCloseable> owners) throws IOException {
        AutoencoderOobleck vae = vae(owners);
        int frames = decodeFrames(vae, Integer.MAX_VALUE);
        int samples = frames * vae.config().hopLength();
        int ch = vae.config().audioChannels();
        Tensor audio = backend.fromArray(NormalNoise.sample(seed + 6, ch * samples), Shape.of(1, ch, samples));
        System.gc();
        // as the pipeline encodes: in tiles past StableAudioPipeline.ENCODE_TILE_FRAMES
        return time("vae_encode", () -> StableAudioPipeline.encodeAudio(vae, audio), repeat, true);
    }

    private ModelBench.Result total(List<AutoCloseable> owners) throws IOException {
        // all three loaded at once, as StableAudioPipeline loads them, and each stage's pages released after it
        // as its generate does by default (WeightResidency.RELEASE_AFTER_STAGE)
        List<AutoCloseable> t5Files = new ArrayList<>();
        List<AutoCloseable> ditFiles = new ArrayList<>();
        T5EncoderModel t5;
        StableAudioDiTModel dit;
        try {
            t5 = T5EncoderModel.load(random("text_encoder", t5Files), config("text_encoder"));
            dit = StableAudioDiTModel.load(random("transformer", ditFiles), config("transformer"));
        } finally {
            owners.addAll(t5Files);
            owners.addAll(ditFiles);
        }
        AutoencoderOobleck vae = vae(owners);
        JsonObject sched = new JsonObject(Json.parse(Files.readString(dir.resolve("scheduler/scheduler_config.json"))),
                "scheduler_config.json");
        var c = dit.config();
        int frames = c.sampleSize();
        long[][][] in = ids(t5.config().vocabSize());
        System.gc();
        return time("total", () -> {
            Tensor text = t5.forward(in[0], in[1], Trace.NONE); // stands in for the projected prompt
            stageDone(t5Files);
            int d = c.crossAttentionInputDim();
            Tensor cross = backend.concat(List.of(text.slice(2, 0, Math.min(d, text.dim(2))),
                    backend.zeros(DType.F32, Shape.of(2, text.dim(1), Math.max(0, d - text.dim(2))))), 2);
            Tensor global = backend.zeros(DType.F32, Shape.of(2, 1, c.globalStatesInputDim()));
            RotaryEmbedding rotary = RotaryEmbedding.of(backend, c.rotaryEmbedDim(), frames + 1);
            CosineDPMSolverMultistepScheduler s = CosineDPMSolverMultistepScheduler.fromConfig(sched);
            s.setTimesteps(steps);
            int n = c.inChannels() * frames;
            float[] latents = NormalNoise.sample(seed + 5, n);
            for (int k = 0; k < steps; k++) {
                try (Scope step = Scope.open()) {
                    float[] input = new float[2 * n];
                    System.arraycopy(latents, 0, input, 0, n);
                    System.arraycopy(latents, 0, input, n, n);
                    input = s.scaleModelInput(input, k);
                    float t = (float) s.timesteps()[k];
                    float[] pred = dit.forward(backend.fromArray(input, Shape.of(2, c.inChannels(), frames)),
                            new float[] {t, t}, cross, global, rotary, Trace.NONE).toFloatArray();
                    float[] guided = new float[n];
                    for (int i = 0; i < n; i++) {
                        guided[i] = pred[i] + 7f * (pred[n + i] - pred[i]);
                    }
                    int kk = k;
                    latents = s.step(guided, k, latents, m -> NormalNoise.sample(seed + 100 + kk, m));
                }
            }
            stageDone(ditFiles);
            int decode = decodeFrames(vae, frames);
            // in tiles, as the pipeline decodes
            StableAudioPipeline.decodeLatents(vae, backend.fromArray(java.util.Arrays.copyOf(latents,
                    c.inChannels() * frames), Shape.of(1, c.inChannels(), frames)).slice(2, 0, decode),
                    ProgressListener.NONE);
        }, 1, false);
    }

    /** As {@code StableAudioPipeline}'s default residency after a stage: its pages and idle activations go. */
    private void stageDone(List<AutoCloseable> files) {
        RandomModel.releaseResident(files);
        if (backend instanceof org.euterpe.kernels.cpu.CpuBackendBase) {
            org.euterpe.kernels.cpu.CpuBackendBase.releaseIdleMemory();
        }
    }

    private static ModelBench.Result time(String stage, Runnable body, int repeat, boolean warmUp) {
        if (warmUp) {
            try (Scope warm = Scope.open()) {
                body.run();
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
        return new ModelBench.Result(stage, runs, FlopCounter.flops() / repeat);
    }
}
