package org.euterpe.pipeline.stableaudio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.euterpe.converter.ConvertedModel;
import org.euterpe.converter.Converter;
import org.euterpe.converter.Precision;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.WeightSource;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Trace;
import org.euterpe.nn.oobleck.AutoencoderOobleck;
import org.euterpe.nn.oobleck.OobleckDiagonalGaussianDistribution;
import org.euterpe.nn.stableaudio.RotaryEmbedding;
import org.euterpe.nn.stableaudio.StableAudioDiTModel;
import org.euterpe.nn.stableaudio.StableAudioProjectionModel;
import org.euterpe.nn.t5.T5EncoderModel;
import org.euterpe.pipeline.AudioPipeline;
import org.euterpe.pipeline.GenerationCancelledException;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.audio.Resampler;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.StepTrace;
import org.euterpe.pipeline.WeightResidency;
import org.euterpe.pipeline.scheduler.CosineDPMSolverMultistepScheduler;
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
 * Text to stereo audio, as diffusers' {@code StableAudioPipeline} (v0.32.2) runs it:
 *
 * <pre>
 *   prompt ──T5Tokenizer──▶ T5EncoderModel ──projection, × mask──▶ text tokens [B, L, D]
 *   seconds_start, seconds_end ──number conditioners──▶ two timing tokens [B, 1, D] each
 *   cross tokens = [text, start, end]; global token = [start ‖ end]; unconditional rows: zeros (or the negative prompt)
 *   noise × √(σ_max² + 1) (+ encoded initial audio) ──▶ for t: DiT(latents × 2, t) ──CFG──▶ SDE DPM-Solver++ step
 *   latents ──Oobleck decoder──▶ [B, 2, frames · hop] ──cut to [start, end)──▶ audio
 * </pre>
 *
 * <p>One generation at a time per pipeline ({@link #generate} is synchronized).
 */
public final class StableAudioPipeline implements AudioPipeline {
    private final Backend backend;
    private final T5Tokenizer tokenizer;
    private final T5EncoderModel textEncoder;
    private final StableAudioProjectionModel projection;
    private final StableAudioDiTModel transformer;
    private final AutoencoderOobleck vae;
    private final JsonObject schedulerConfig;
    /** The mapped file or converted folder the weights live in; closed with the pipeline. */
    private final AutoCloseable owner;
    /** Per component, the dtypes its weights are stored in (set by {@link #load}; empty when built directly). */
    private Map<String, java.util.Set<org.euterpe.tensor.DType>> weightDtypes = Map.of();
    /** The weights {@link #load} read, whose mapped pages {@link #residency} may release; null when built directly. */
    private WeightSource source;
    private WeightResidency residency = WeightResidency.DEFAULT;

    public StableAudioPipeline(Backend backend, T5Tokenizer tokenizer, T5EncoderModel textEncoder,
            StableAudioProjectionModel projection, StableAudioDiTModel transformer, AutoencoderOobleck vae,
            JsonObject schedulerConfig, AutoCloseable owner) {
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.projection = projection;
        this.transformer = transformer;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.owner = owner;
        if (tokenizer.modelMaxLength() == Integer.MAX_VALUE) {
            throw new ModelLoadException("tokenizer: model_max_length is not set (the prompts are padded to it)");
        }
        if (projection.textEncoderDim() != textEncoder.config().dModel()) {
            throw new ModelLoadException("projection_model: text_encoder_dim " + projection.textEncoderDim()
                    + " differs from the text encoder's d_model " + textEncoder.config().dModel());
        }
        if (transformer.config().crossAttentionInputDim() != projection.conditioningDim()
                || transformer.config().globalStatesInputDim() != 2 * projection.conditioningDim()) {
            throw new ModelLoadException("transformer: cross_attention_input_dim "
                    + transformer.config().crossAttentionInputDim() + " / global_states_input_dim "
                    + transformer.config().globalStatesInputDim() + " do not fit the projection's conditioning_dim "
                    + projection.conditioningDim() + " (expected it and twice it)");
        }
        if (vae.config().decoderInputChannels() != transformer.config().inChannels()) {
            throw new ModelLoadException("vae: decoder_input_channels " + vae.config().decoderInputChannels()
                    + " differs from the transformer's in_channels " + transformer.config().inChannels());
        }
        CosineDPMSolverMultistepScheduler.fromConfig(schedulerConfig); // checks the config now
    }

    /** The {@code _class_name} of a Stable Audio pipeline in {@code model_index.json}. */
    public static final String PIPELINE_CLASS = "StableAudioPipeline";
    private static final List<String> COMPONENTS = List.of("text_encoder", "projection_model", "transformer", "vae");

    /**
     * Whether {@code path} (a diffusers folder or a file made by {@code euterpe convert}) holds a Stable Audio
     * pipeline, by its {@code model_index.json}; false when it cannot tell.
     */
    public static boolean isStableAudio(Path path) {
        try {
            String index;
            if (Files.isDirectory(path)) {
                Path f = path.resolve("model_index.json");
                if (!Files.isRegularFile(f)) {
                    return false;
                }
                index = Files.readString(f);
            } else {
                try (SafetensorsFile file = SafetensorsFile.open(path)) {
                    index = file.metadata().get("model_index.json");
                }
            }
            return index != null && Json.parseLenient(index) instanceof java.util.Map<?, ?> m
                    && PIPELINE_CLASS.equals(m.get("_class_name"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Loads a diffusers {@code StableAudioPipeline} folder (weights as stored, {@code .bin} converted in
     * memory) or a file made from one by {@code euterpe convert}: tokenizer ({@code spiece.model} or
     * {@code tokenizer.json}), text_encoder, projection_model, transformer, vae and scheduler, each named in
     * the error when missing or unsupported.
     */
    public static StableAudioPipeline load(Path path, Backend backend) throws IOException {
        return load(path, backend, Precision.AS_STORED);
    }

    /**
     * {@link #load(Path, Backend)} with a folder's weights converted in memory to {@code precision} (as
     * {@code euterpe convert --dtype} would store them); a converted file keeps the precision it was converted
     * with, and any other than {@link Precision#AS_STORED} is refused for one.
     */
    public static StableAudioPipeline load(Path path, Backend backend, Precision precision) throws IOException {
        if (!Files.exists(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "model not found");
        }
        AutoCloseable owner;
        WeightSource source;
        Map<String, String> metadata;
        if (Files.isDirectory(path)) {
            if (!Files.isRegularFile(path.resolve("model_index.json"))) {
                throw new ModelLoadException(path + " is not a diffusers pipeline folder (no model_index.json)");
            }
            for (String c : List.of("tokenizer", "text_encoder", "projection_model", "transformer", "vae", "scheduler")) {
                if (!Files.isDirectory(path.resolve(c))) {
                    throw new ModelLoadException(path + ": the Stable Audio component \"" + c + "\" is missing");
                }
            }
            ConvertedModel converted = ConvertedModel.open(path, precision);
            owner = converted;
            source = converted;
            metadata = converted.metadata();
        } else {
            if (!precision.equals(Precision.AS_STORED)) {
                throw new IllegalArgumentException(path + " is a converted model, loaded at the precision it was"
                        + " converted with; convert the folder again with the dtype you want");
            }
            SafetensorsFile file;
            try {
                file = SafetensorsFile.open(path);
            } catch (org.euterpe.tensor.safetensors.SafetensorsException e) {
                throw new ModelLoadException(path + " is neither a model folder nor a valid one-file model: "
                        + e.getMessage(), e);
            }
            if (!Converter.FORMAT_VERSION.equals(file.metadata().get(Converter.FORMAT_VERSION_KEY))) {
                file.close();
                throw new ModelLoadException(path + " is not a Euterpe model of format version "
                        + Converter.FORMAT_VERSION + " (convert the pipeline folder with `euterpe convert`)");
            }
            owner = file;
            source = WeightSource.of(file);
            metadata = file.metadata();
        }
        try {
            return build(path, source, metadata, owner, backend);
        } catch (IOException | RuntimeException e) {
            try {
                owner.close();
            } catch (Exception ignored) {
                // closing a mapping cannot usefully fail
            }
            throw e;
        }
    }

    private static StableAudioPipeline build(Path path, WeightSource source, Map<String, String> metadata,
            AutoCloseable owner, Backend backend) throws IOException {
        String index = text(path, metadata, "model_index.json");
        Object parsed = Json.parseLenient(index, path + ": model_index.json");
        String cls = parsed instanceof java.util.Map<?, ?> m && m.get("_class_name") instanceof String c ? c : null;
        if (!PIPELINE_CLASS.equals(cls)) {
            throw new ModelLoadException(path + ": model_index.json's _class_name is " + cls + ", not " + PIPELINE_CLASS);
        }
        T5Tokenizer tokenizer;
        String tokConfig = metadata.get("tokenizer/" + T5Tokenizer.CONFIG_FILE);
        String spiece = metadata.get("tokenizer/" + T5Tokenizer.SPIECE_FILE + ".base64");
        String fast = metadata.get("tokenizer/" + T5Tokenizer.FAST_FILE);
        if (spiece != null) {
            byte[] proto;
            try {
                proto = java.util.Base64.getDecoder().decode(spiece);
            } catch (IllegalArgumentException e) {
                throw new ModelLoadException(path + ": tokenizer/spiece.model is not valid base64 in the metadata");
            }
            tokenizer = T5Tokenizer.fromSpieceModel(proto, tokConfig, path + ": tokenizer/" + T5Tokenizer.SPIECE_FILE);
        } else if (fast != null) {
            tokenizer = T5Tokenizer.fromTokenizerJson(fast, tokConfig, path + ": tokenizer/" + T5Tokenizer.FAST_FILE);
        } else {
            throw new ModelLoadException(path + ": the tokenizer has neither " + T5Tokenizer.SPIECE_FILE + " nor "
                    + T5Tokenizer.FAST_FILE);
        }
        java.util.Map<String, ComponentFiles> c = new java.util.LinkedHashMap<>();
        for (String name : COMPONENTS) {
            if (source.names().stream().noneMatch(n -> n.startsWith(name + "."))) {
                throw new ModelLoadException(path + ": no weights for component " + name);
            }
            String config = name + "/config.json";
            c.put(name, ComponentFiles.of(name, text(path, metadata, config), path + ": " + config, source, name + "."));
        }
        JsonObject schedulerConfig = new JsonObject(Json.parseLenient(
                text(path, metadata, "scheduler/scheduler_config.json"), path + ": scheduler/scheduler_config.json"),
                path + ": scheduler/scheduler_config.json");
        String sched = schedulerConfig.optString("_class_name", "CosineDPMSolverMultistepScheduler");
        if (!sched.equals("CosineDPMSolverMultistepScheduler")) {
            throw new ModelLoadException(path + ": scheduler " + sched
                    + " is not implemented for Stable Audio (CosineDPMSolverMultistepScheduler is)");
        }
        Map<String, java.util.Set<org.euterpe.tensor.DType>> dtypes = new java.util.LinkedHashMap<>();
        for (String name : COMPONENTS) {
            java.util.Set<org.euterpe.tensor.DType> d = java.util.EnumSet.noneOf(org.euterpe.tensor.DType.class);
            source.names().stream().filter(n -> n.startsWith(name + ".")).forEach(n -> d.add(source.entry(n).dtype()));
            dtypes.put(name, java.util.Collections.unmodifiableSet(d));
        }
        AutoencoderOobleck vae = AutoencoderOobleck.load(c.get("vae"), backend);
        releaseMapped(source, "vae.");
        StableAudioPipeline pipe = new StableAudioPipeline(backend, tokenizer,
                T5EncoderModel.load(c.get("text_encoder"), backend),
                StableAudioProjectionModel.load(c.get("projection_model"), backend),
                StableAudioDiTModel.load(c.get("transformer"), backend), vae, schedulerConfig, owner);
        pipe.weightDtypes = java.util.Collections.unmodifiableMap(dtypes);
        pipe.source = source;
        return pipe;
    }

    /**
     * What {@link #generate} does with each component's mapped weights once its stage is done (default
     * {@link WeightResidency#RELEASE_AFTER_STAGE}, as for AudioLDM: T5 and the projection after encoding, the DiT
     * after denoising, so the decode's peak does not hold the DiT's 4.2 GB of f32 pages; the next generation
     * faults them back in from the page cache).
     */
    public StableAudioPipeline withResidency(WeightResidency r) {
        this.residency = java.util.Objects.requireNonNull(r, "residency");
        return this;
    }

    public WeightResidency residency() {
        return residency;
    }

    /** {@link #residency} once the stage of the components {@code components} is done. */
    private void stageDone(String... components) {
        if (residency != WeightResidency.RELEASE_AFTER_STAGE || source == null) {
            return;
        }
        for (String c : components) {
            releaseMapped(source, c + ".");
        }
        if (backend instanceof org.euterpe.kernels.cpu.CpuBackendBase) {
            org.euterpe.kernels.cpu.CpuBackendBase.releaseIdleMemory();
        }
    }

    /**
     * Drops the mapped pages of the weights under {@code prefix} from the resident set. The Oobleck VAE copies
     * its weights at load (weight norm folded into F32 weights, snake parameters read into arrays), so once it is
     * built its file pages, which the fold has just read in, would only count its weights twice (0.6 GB for
     * Stable Audio Open in f32); the few it reads later (biases) fault back in. Weights that are not mapped (a
     * folder converted in memory) are left alone.
     */
    static void releaseMapped(WeightSource source, String prefix) {
        for (String n : source.names()) {
            if (n.startsWith(prefix)) {
                java.lang.foreign.MemorySegment seg = source.bytes(n);
                if (seg.isMapped() && seg.byteSize() > 0) {
                    seg.unload();
                }
            }
        }
    }

    /** Per component, the dtypes its stored weights have (e.g. {@code transformer=[F16, F32]}). */
    public Map<String, java.util.Set<org.euterpe.tensor.DType>> weightDtypes() {
        return weightDtypes;
    }

    private static String text(Path path, Map<String, String> metadata, String key) {
        String t = metadata.get(key);
        if (t == null) {
            throw new ModelLoadException(path + ": the model has no " + key);
        }
        return t;
    }

    public Backend backend() {
        return backend;
    }

    public T5Tokenizer tokenizer() {
        return tokenizer;
    }

    public T5EncoderModel textEncoder() {
        return textEncoder;
    }

    public StableAudioProjectionModel projection() {
        return projection;
    }

    public StableAudioDiTModel transformer() {
        return transformer;
    }

    public AutoencoderOobleck vae() {
        return vae;
    }

    @Override
    public int sampleRate() {
        return vae.config().samplingRate();
    }

    @Override
    public String pipelineClass() {
        return PIPELINE_CLASS;
    }

    @Override
    public int channels() {
        return audioChannels();
    }

    @Override
    public boolean takesPrompts() {
        return true;
    }

    /** diffusers' default, 100 steps. */
    @Override
    public int defaultSteps() {
        return DEFAULT_STEPS;
    }

    /**
     * Latent frames per tile of the Oobleck decode (11.9 s of audio; a whole 47.55 s clip is 1024 frames, 4
     * tiles): the decoder's activations at 44.1 kHz are 128 channels wide, 1 GiB per tensor for the whole clip
     * (PyTorch peaks at 7.3 GB decoding it; the engine ran out of a 6 GiB heap), a quarter of that per tile.
     * Each tile is decoded with {@link AutoencoderOobleck#receptiveFieldFrames} of margin, so the result equals the
     * one-piece decode up to summation order (11 of 256 frames each side: ~9 % more work).
     */
    public static final int DECODE_TILE_FRAMES = 256;

    /**
     * Latent frames per tile of the initial audio's Oobleck encode, as of the decode: the encoder's first block
     * runs 128 channels at 44.1 kHz, so a whole 47.55 s clip (which {@code --init-audio} always encodes: it is
     * padded to the model's length) is 1 GiB per activation tensor; a tile of 256 frames with its
     * {@link AutoencoderOobleck#encoderReceptiveFieldFrames} (8) of margin each side is 0.28 GiB.
     */
    public static final int ENCODE_TILE_FRAMES = DECODE_TILE_FRAMES;

    /**
     * The initial audio's Oobleck encode as {@link #generate} runs it: in tiles of {@link #ENCODE_TILE_FRAMES}
     * with the encoder's receptive field as margin (equal to the one-piece encode up to summation order).
     *
     * @param audio {@code [batch, audio_channels, samples]}
     */
    public static OobleckDiagonalGaussianDistribution encodeAudio(AutoencoderOobleck vae, Tensor audio) {
        return vae.encodeTiled(audio, ENCODE_TILE_FRAMES, vae.encoderReceptiveFieldFrames());
    }

    /**
     * The Oobleck decode as {@link #generate} runs it: in tiles of {@link #DECODE_TILE_FRAMES} with the decoder's
     * receptive field as margin, each tile reported to {@code listener} as progress of the "decode" stage (the
     * CLI's bar counts tiles as it does for AudioLDM's tiled VAE decode).
     *
     * @param latents {@code [batch, decoder_input_channels, frames]}
     * @return {@code [batch, audio_channels, frames * hop_length]}
     */
    public static Tensor decodeLatents(AutoencoderOobleck vae, Tensor latents, ProgressListener listener) {
        return vae.decodeTiled(latents, DECODE_TILE_FRAMES, vae.receptiveFieldFrames(),
                (done, total) -> listener.onStageProgress("decode", done, total));
    }
    public static final int DEFAULT_STEPS = 100;
    public static final double DEFAULT_GUIDANCE = 7.0;

    /**
     * The shared request API: prompts (one negative prompt for all), guidance (default 7), steps (default
     * 100), {@code seconds} as {@code audio_end_in_s} from 0 (default: the model's maximum), waveforms per
     * prompt, the seed; source audio (resampled to the model's rate, one clip for every prompt) with
     * {@code strength} s starting the schedule at {@code s · σ_max} from the encoded audio (no strength:
     * diffusers' σ_max). Samplers, Karras sigmas, eta and inpainting masks do not apply and are refused by name.
     */
    @Override
    public GenerationResult generate(GenerationRequest request, ProgressListener listener) {
        if (request.prompts().isEmpty()) {
            throw new IllegalArgumentException("Stable Audio needs a prompt");
        }
        if (request.sampler() != null) {
            throw new IllegalArgumentException("Stable Audio samples with its CosineDPMSolverMultistepScheduler; --sampler "
                    + request.sampler() + " is not available");
        }
        if (request.karras() || request.eta() != 0f) {
            throw new IllegalArgumentException("Stable Audio's sampler takes no --karras or --eta");
        }
        if (request.mask() != null) {
            throw new IllegalArgumentException("inpainting (a mask) is not implemented for Stable Audio");
        }
        if (request.strength() != null && request.sourceAudio() == null) {
            throw new IllegalArgumentException("--strength needs source audio");
        }
        List<String> negatives = request.negativePrompt() == null ? null
                : java.util.Collections.nCopies(request.prompts().size(), request.negativePrompt());
        float[][][] initial = null;
        Double level = null;
        if (request.sourceAudio() != null) {
            var src = request.sourceAudio();
            float[][] ch = src.toChannels(audioChannels());
            if (src.sampleRate() != sampleRate()) {
                for (int c = 0; c < ch.length; c++) {
                    ch[c] = Resampler.resample(ch[c], src.sampleRate(), sampleRate());
                }
            }
            initial = new float[request.prompts().size()][][];
            java.util.Arrays.fill(initial, ch);
            if (request.strength() != null) {
                level = request.strength() * scheduler().sigmaMax();
            }
        }
        double guidance = request.guidanceScale() != null ? request.guidanceScale() : DEFAULT_GUIDANCE;
        int steps = request.steps() != null ? request.steps() : DEFAULT_STEPS;
        StableAudioRequest r = new StableAudioRequest(request.prompts(), negatives, guidance, steps, 0.0,
                request.seconds(), request.waveformsPerPrompt(), request.seed(), initial, level);
        StableAudioNoise noise = StableAudioNoise.seeded(request.seed());
        if (request.initialLatents() != null) {
            float[] given = request.initialLatents();
            StableAudioNoise seeded = noise;
            noise = new StableAudioNoise() {
                @Override
                public float[] latents(int[] shape) {
                    return given.clone();
                }

                @Override
                public float[] initAudio(int[] shape) {
                    return seeded.initAudio(shape);
                }

                @Override
                public float[] step(int step, int n) {
                    return seeded.step(step, n);
                }
            };
        }
        StableAudioResult out = generate(r, listener, noise, StepTrace.NONE);
        float[][] waves = new float[out.audio().length][];
        for (int i = 0; i < waves.length; i++) {
            float[][] a = out.audio()[i];
            int n = a[0].length;
            waves[i] = new float[n * a.length];
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < a.length; c++) {
                    waves[i][t * a.length + c] = a[c][t];
                }
            }
        }
        java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
        settings.put("prompt", String.join(" | ", request.prompts()));
        settings.put("negative_prompt", request.negativePrompt() == null ? "" : request.negativePrompt());
        settings.put("seed", Long.toString(request.seed()));
        settings.put("steps", Integer.toString(steps));
        settings.put("guidance", Double.toString(guidance));
        settings.put("seconds_start", "0.0");
        settings.put("seconds_total", Double.toString(request.seconds() != null ? request.seconds() : maxAudioLengthInS()));
        settings.put("count", Integer.toString(request.waveformsPerPrompt()));
        settings.put("sampler", "cosine-dpm-solver++-sde");
        if (level != null) {
            settings.put("init_noise_level", Double.toString(level));
        }
        return new GenerationResult(waves, new float[0][], 0, 0, sampleRate(), request.seed(), audioChannels(), settings);
    }

    public int audioChannels() {
        return vae.config().audioChannels();
    }

    /** Latent frames per generation ({@code transformer.config.sample_size}). */
    public int latentFrames() {
        return transformer.config().sampleSize();
    }

    /** {@code sample_size · hop_length / sampling_rate}: the longest clip, in seconds. */
    public double maxAudioLengthInS() {
        return (double) latentFrames() * vae.config().hopLength() / vae.config().samplingRate();
    }

    /** A fresh scheduler from the folder's config. */
    public CosineDPMSolverMultistepScheduler scheduler() {
        return CosineDPMSolverMultistepScheduler.fromConfig(schedulerConfig);
    }

    // ------------------------------------------------------------------ conditioning

    /**
     * {@code encode_prompt}: the projected T5 states of each prompt times its attention mask,
     * {@code [rows, max_length, conditioning_dim]}; with guidance and negative prompts, the negatives' rows
     * first. Without negative prompts only the prompts' rows (the unconditional rows are zeros, made later).
     */
    public Tensor encodePrompt(List<String> prompts, List<String> negativePrompts, boolean guidance) {
        int length = tokenizer.modelMaxLength();
        try (Scope scope = Scope.open()) {
            long[][] mask = new long[prompts.size()][];
            Tensor embeds = t5(prompts, length, mask);
            long[][] allMask = mask;
            if (guidance && negativePrompts != null) {
                long[][] negMask = new long[negativePrompts.size()][];
                Tensor neg = t5(negativePrompts, length, negMask);
                neg = neg.mul(maskTensor(negMask, length)); // torch.where(mask, negative, 0)
                embeds = backend.concat(List.of(neg, embeds), 0);
                allMask = new long[2 * prompts.size()][];
                System.arraycopy(negMask, 0, allMask, 0, negMask.length);
                System.arraycopy(mask, 0, allMask, negMask.length, mask.length);
            }
            Tensor projected = projection.projectText(embeds);
            return scope.keep(projected.mul(maskTensor(allMask, length)));
        }
    }

    private Tensor t5(List<String> texts, int length, long[][] maskOut) {
        long[][] ids = new long[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            Encoding e = tokenizer.encode(texts.get(i), length, true, true);
            ids[i] = e.inputIds();
            maskOut[i] = e.attentionMask();
        }
        return textEncoder.forward(ids, maskOut, Trace.NONE);
    }

    /** {@code [rows, length, 1]} of the masks as floats. */
    private Tensor maskTensor(long[][] mask, int length) {
        float[] m = new float[mask.length * length];
        for (int r = 0; r < mask.length; r++) {
            for (int i = 0; i < length; i++) {
                m[r * length + i] = mask[r][i];
            }
        }
        return backend.fromArray(m, Shape.of(mask.length, length, 1));
    }

    // ------------------------------------------------------------------ generation

    /** Generates with the engine's own seeded noise. */
    public StableAudioResult generate(StableAudioRequest request, ProgressListener listener) {
        return generate(request, listener, StableAudioNoise.seeded(request.seed()), StepTrace.NONE);
    }

    /**
     * Generates, with the given noise (a conformance replay passes the recorded draws) and a trace of every
     * intermediate under the reference's record names ({@code prompt_embeds}, {@code dit.K.*},
     * {@code step.K.*}, {@code vae_decode_in}, {@code waveform_full}, {@code audio}, and for initial audio
     * {@code vae_encode_in}, {@code init_latent_mean / std / noise / sample}).
     */
    public synchronized StableAudioResult generate(StableAudioRequest request, ProgressListener listener,
            StableAudioNoise noise, StepTrace trace) {
        int sr = sampleRate();
        double maxLength = maxAudioLengthInS();
        double start = request.audioStartInS();
        double end = request.audioEndInS() != null ? request.audioEndInS() : maxLength;
        checkTiming(start, end, maxLength);
        int waveformStart = (int) (start * sr);
        int waveformEnd = (int) (end * sr);

        int prompts = request.prompts().size();
        int perPrompt = request.waveformsPerPrompt();
        int batch = prompts * perPrompt;
        boolean guidance = request.guidanceScale() > 1.0;
        boolean negative = guidance && request.negativePrompts() != null;
        int frames = latentFrames();
        int channels = transformer.config().inChannels();

        try (Scope scope = Scope.open()) {
            // 1. Conditioning: text tokens, then the two timing tokens, per output row.
            listener.onStageStart("encode");
            long t0 = System.nanoTime();
            Tensor promptEmbeds = encodePrompt(request.prompts(), request.negativePrompts(), guidance);
            trace.record("prompt_embeds", promptEmbeds.toFloatArray());
            int durationRows = negative ? 2 * prompts : prompts;
            float[] starts = new float[durationRows];
            float[] ends = new float[durationRows];
            Arrays.fill(starts, (float) start);
            Arrays.fill(ends, (float) end);
            Tensor secondsStart = projection.secondsStart(starts, backend);
            Tensor secondsEnd = projection.secondsEnd(ends, backend);
            Tensor cross = backend.concat(List.of(promptEmbeds, secondsStart, secondsEnd), 1);
            Tensor global = backend.concat(List.of(secondsStart, secondsEnd), 2);
            if (guidance && !negative) {
                cross = backend.concat(List.of(backend.zeros(cross.dtype(), cross.shape()), cross), 0);
                global = backend.concat(List.of(global, global), 0);
            }
            cross = repeatRows(cross, perPrompt);
            global = repeatRows(global, perPrompt);
            listener.onStage("encode", seconds(t0));
            stageDone("text_encoder", "projection_model");

            // 2. Schedule and initial latents.
            CosineDPMSolverMultistepScheduler scheduler = scheduler();
            double sigmaStart = scheduler.sigmaMax();
            if (request.initialAudio() != null && request.initNoiseLevel() != null) {
                sigmaStart = request.initNoiseLevel();
                scheduler = scheduler.withSigmaMax(sigmaStart);
            }
            scheduler.setTimesteps(request.steps());
            int[] latentShape = {batch, channels, frames};
            int n = batch * channels * frames;
            float[] latents = noise.latents(latentShape);
            checkLength("initial latents", latents, n);
            float noiseScale = (float) (request.initialAudio() != null && request.initNoiseLevel() != null
                    ? sigmaStart : scheduler.initNoiseSigma());
            for (int i = 0; i < n; i++) {
                latents[i] = latents[i] * noiseScale;
            }
            if (request.initialAudio() != null) {
                listener.onStageStart("encode_audio");
                long t1 = System.nanoTime();
                float[] encoded = encodeInitialAudio(request.initialAudio(), perPrompt, noise, trace);
                for (int i = 0; i < n; i++) {
                    latents[i] = encoded[i] + latents[i];
                }
                listener.onStage("encode_audio", seconds(t1));
            }
            RotaryEmbedding rotary = RotaryEmbedding.of(backend, transformer.config().rotaryEmbedDim(), frames + 1);

            // 3. Denoising.
            listener.onStageStart("denoise");
            long t2 = System.nanoTime();
            double[] timesteps = scheduler.timesteps();
            float gs = (float) request.guidanceScale();
            for (int k = 0; k < timesteps.length; k++) {
                try (Scope step = Scope.open()) {
                    float[] input = guidance ? concat(latents, latents) : latents;
                    input = scheduler.scaleModelInput(input, k);
                    int rows = guidance ? 2 * batch : batch;
                    float t = (float) timesteps[k];
                    float[] ts = new float[rows];
                    Arrays.fill(ts, t);
                    trace.record("dit." + k + ".hidden_states", input);
                    trace.record("dit." + k + ".timestep", new float[] {t});
                    if (trace != StepTrace.NONE) {
                        trace.record("dit." + k + ".encoder_hidden_states", cross.toFloatArray());
                        trace.record("dit." + k + ".global_hidden_states", global.toFloatArray());
                    }
                    Tensor out = transformer.forward(backend.fromArray(input, Shape.of(rows, channels, frames)), ts,
                            cross, global, rotary, Trace.NONE);
                    float[] pred = out.toFloatArray();
                    trace.record("dit." + k + ".out", pred);
                    if (guidance) {
                        float[] guided = new float[n];
                        for (int i = 0; i < n; i++) {
                            float u = pred[i];
                            guided[i] = u + gs * (pred[n + i] - u);
                        }
                        pred = guided;
                    }
                    final int stepIndex = k;
                    float[][] drawn = new float[1][];
                    float[] prev = scheduler.step(pred, k, latents, m -> {
                        drawn[0] = noise.step(stepIndex, m);
                        return drawn[0];
                    });
                    trace.record("step." + k + ".model_output", pred);
                    trace.record("step." + k + ".timestep", new float[] {t});
                    trace.record("step." + k + ".sample", latents);
                    trace.record("step." + k + ".noise", drawn[0]);
                    trace.record("step." + k + ".prev_sample", prev);
                    latents = prev;
                }
                if (!listener.onStep(k + 1, timesteps.length)) {
                    throw new GenerationCancelledException(k + 1, timesteps.length);
                }
            }
            listener.onStage("denoise", seconds(t2));
            stageDone("transformer");

            // 4. Decode and cut.
            listener.onStageStart("decode");
            long t3 = System.nanoTime();
            trace.record("vae_decode_in", latents);
            Tensor waveform = decodeLatents(vae, backend.fromArray(latents, Shape.of(latentShape)), listener);
            float[] full = waveform.toFloatArray();
            trace.record("waveform_full", full);
            int audioChannels = waveform.dim(1);
            int samples = waveform.dim(2);
            int from = Math.max(0, Math.min(waveformStart, samples));
            int to = Math.max(from, Math.min(waveformEnd, samples));
            float[][][] audio = new float[batch][audioChannels][to - from];
            float[] flatCut = new float[batch * audioChannels * (to - from)];
            for (int b = 0; b < batch; b++) {
                for (int c = 0; c < audioChannels; c++) {
                    System.arraycopy(full, (b * audioChannels + c) * samples + from, audio[b][c], 0, to - from);
                    System.arraycopy(audio[b][c], 0, flatCut, (b * audioChannels + c) * (to - from), to - from);
                }
            }
            trace.record("audio", flatCut);
            listener.onStage("decode", seconds(t3));
            stageDone("vae");
            return new StableAudioResult(audio, sr, request.seed());
        }
    }

    /**
     * {@code check_inputs} for the timing: a start before the end, both within the projection's range and the
     * clip no longer than the model's maximum.
     */
    public void checkTiming(double start, double end, double maxLength) {
        if (!(end > start)) {
            throw new IllegalArgumentException("seconds end (" + end + ") must be after seconds start (" + start + ")");
        }
        if (start < 0 || start > projection.maxValue()) {
            throw new IllegalArgumentException("seconds start " + start + " is outside [0, " + projection.maxValue()
                    + "], the range of the model's timing conditioning");
        }
        if (end > projection.maxValue()) {
            throw new IllegalArgumentException("seconds end " + end + " is beyond " + projection.maxValue()
                    + ", the range of the model's timing conditioning");
        }
        if (end - start > maxLength + 1e-9) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "the requested length (%.4g s) is longer than the model's maximum (%.4g s)", end - start,
                    maxLength));
        }
    }

    /** {@code prepare_latents}' initial-audio part: pad or crop, match channels, encode, sample, tile. */
    private float[] encodeInitialAudio(float[][][] clips, int perPrompt, StableAudioNoise noise, StepTrace trace) {
        int prompts = clips.length;
        int ch = audioChannels();
        int length = latentFrames() * vae.config().hopLength();
        float[] audio = new float[prompts * ch * length];
        for (int p = 0; p < prompts; p++) {
            float[][] clip = clips[p];
            if (clip == null || clip.length == 0) {
                throw new IllegalArgumentException("initial audio " + p + " has no channels");
            }
            if (clip.length != 1 && clip.length != 2) {
                throw new IllegalArgumentException("initial audio " + p + " has " + clip.length
                        + " channels (1 or 2 are accepted)");
            }
            for (int c = 0; c < ch; c++) {
                int copy = Math.min(length, clip[0].length);
                for (int i = 0; i < copy; i++) {
                    float v;
                    if (clip.length == ch) {
                        v = clip[c][i];
                    } else if (clip.length == 1) {
                        v = clip[0][i]; // mono repeated to stereo
                    } else {
                        v = (clip[0][i] + clip[1][i]) / 2f; // stereo averaged to mono
                    }
                    audio[(p * ch + c) * length + i] = v;
                }
            }
        }
        trace.record("vae_encode_in", audio);
        try (Scope scope = Scope.open()) {
            OobleckDiagonalGaussianDistribution posterior = encodeAudio(vae,
                    backend.fromArray(audio, Shape.of(prompts, ch, length)));
            int[] shape = posterior.mean().shape().dims();
            float[] z = noise.initAudio(shape);
            checkLength("init audio noise", z, (int) posterior.mean().numel());
            float[] sample = posterior.sample(backend.fromArray(z, Shape.of(shape))).toFloatArray();
            trace.record("init_latent_mean", posterior.mean().toFloatArray());
            trace.record("init_latent_std", posterior.std().toFloatArray());
            trace.record("init_latent_noise", z);
            trace.record("init_latent_sample", sample);
            // encoded_audio.repeat((num_waveforms_per_prompt, 1, 1)): the whole batch tiled, as diffusers does
            float[] tiled = new float[sample.length * perPrompt];
            for (int r = 0; r < perPrompt; r++) {
                System.arraycopy(sample, 0, tiled, r * sample.length, sample.length);
            }
            return tiled;
        }
    }

    /** Each row repeated {@code times} times in place ({@code repeat(1, n, 1).view(rows · n, ...)}). */
    private Tensor repeatRows(Tensor x, int times) {
        if (times == 1) {
            return x;
        }
        List<Tensor> parts = new ArrayList<>();
        for (int r = 0; r < x.dim(0); r++) {
            Tensor row = x.slice(0, r, r + 1);
            for (int k = 0; k < times; k++) {
                parts.add(row);
            }
        }
        return backend.concat(parts, 0);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void checkLength(String what, float[] v, int n) {
        if (v.length != n) {
            throw new IllegalArgumentException(what + " have " + v.length + " values, expected " + n);
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    @Override
    public void close() {
        try {
            owner.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the model's weights failed: " + e.getMessage(), e);
        }
    }
}
