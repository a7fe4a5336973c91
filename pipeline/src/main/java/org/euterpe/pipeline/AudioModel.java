package org.euterpe.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.euterpe.converter.ConvertedModel;
import org.euterpe.converter.Converter;
import org.euterpe.converter.Precision;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.WeightSource;
import org.euterpe.nn.clap.ClapModel;
import org.euterpe.nn.clap.ClapTextEncoder;
import org.euterpe.pipeline.audio.ClapFeatureExtractor;
import org.euterpe.nn.unet.UNet2DConditionModel;
import org.euterpe.nn.vae.AutoencoderKL;
import org.euterpe.nn.vocoder.SpeechT5HifiGan;
import org.euterpe.pipeline.tokenizer.BpeTokenizer;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Storage;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsException;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * The components of an AudioLDM or MusicLDM pipeline on one backend, loaded from either
 * <ul>
 *   <li>a one-file model ({@code euterpe convert}): the file is memory-mapped and its header
 *       validated; configs and tokenizer come from its metadata, and on CPU backends every weight
 *       is a zero-copy view of the mapping; or</li>
 *   <li>a diffusers folder ({@code model_index.json} and one folder per component, weights as
 *       {@code .safetensors} or torch {@code .bin}): converted in memory exactly as the converter
 *       would convert it (nothing is written), weights kept as stored unless a {@link Precision}
 *       asks otherwise.</li>
 * </ul>
 * Closing it unmaps the weights.
 */
public final class AudioModel implements AutoCloseable {
    /** The pipeline families this engine runs. */
    public enum Family {
        AUDIOLDM("AudioLDMPipeline", 10, 2.5),
        MUSICLDM("MusicLDMPipeline", 200, 2.0);

        final String className;
        final int defaultSteps;
        final double defaultGuidance;

        Family(String className, int defaultSteps, double defaultGuidance) {
            this.className = className;
            this.defaultSteps = defaultSteps;
            this.defaultGuidance = defaultGuidance;
        }

        public int defaultSteps() {
            return defaultSteps;
        }

        public double defaultGuidance() {
            return defaultGuidance;
        }
    }

    /**
     * What loading cost.
     *
     * @param seconds       wall time of {@link #load}
     * @param residentBytes the process's resident memory right after loading (-1 if unknown)
     * @param kind          "one file" or "folder, converted in memory"
     */
    public record LoadInfo(double seconds, long residentBytes, String kind) {
        public String describe() {
            return String.format(Locale.ROOT, "%s: loaded in %.3f s, resident memory %s", kind, seconds,
                    ResidentMemory.format(residentBytes));
        }
    }

    private static final List<String> COMPONENTS = List.of("text_encoder", "unet", "vae", "vocoder");
    private static final List<String> TOKENIZER_FILES = List.of(BpeTokenizer.VOCAB_FILE, BpeTokenizer.MERGES_FILE,
            BpeTokenizer.CONFIG_FILE);

    private final Path source;
    private final Family family;
    private final Backend backend;
    private final BpeTokenizer tokenizer;
    private final ClapTextEncoder textEncoder;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final SpeechT5HifiGan vocoder;
    private final JsonObject schedulerConfig;
    private final int unetSampleSize;
    private final AutoCloseable weights;
    private final Map<String, Set<DType>> weightDtypes;
    private final LoadInfo loadInfo;
    private final MappedWeights mapped;
    private volatile boolean closed;
    // The CLAP audio branch (MusicLDM's re-ranking, `euterpe score`): loaded on first use.
    private ComponentFiles clapFiles; // text_encoder/, or null when the model was not loaded from files
    private String featureExtractorConfig; // feature_extractor/preprocessor_config.json, or null
    private ClapScorer clapScorer;
    private volatile List<Storage> clapUploads = List.of();

    AudioModel(Path source, Family family, Backend backend, BpeTokenizer tokenizer,
            ClapTextEncoder textEncoder, UNet2DConditionModel unet, AutoencoderKL vae, SpeechT5HifiGan vocoder,
            JsonObject schedulerConfig, int unetSampleSize, AutoCloseable weights, Map<String, Set<DType>> weightDtypes,
            LoadInfo loadInfo, MappedWeights mapped) {
        this.source = source;
        this.family = family;
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.vocoder = vocoder;
        this.schedulerConfig = schedulerConfig;
        this.unetSampleSize = unetSampleSize;
        this.weights = weights;
        this.weightDtypes = weightDtypes;
        this.loadInfo = loadInfo;
        this.mapped = mapped;
    }

    /** Loads a one-file model, or a diffusers folder with its weights as stored. */
    public static AudioModel load(Path path, Backend backend) throws IOException {
        return load(path, backend, Precision.AS_STORED);
    }

    /**
     * Loads a one-file model or a diffusers folder onto {@code backend}.
     *
     * @param precision for a folder, the weight precision to convert to in memory; a one-file
     *                  model has the precision it was converted with, so only
     *                  {@link Precision#AS_STORED} is accepted for one
     */
    public static AudioModel load(Path path, Backend backend, Precision precision) throws IOException {
        long t0 = System.nanoTime();
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "model not found");
        }
        if (Files.isDirectory(path)) {
            if (!Files.isRegularFile(path.resolve("model_index.json"))) {
                throw new ModelLoadException(path + " is not a diffusers pipeline folder (no model_index.json)");
            }
            ConvertedModel converted = ConvertedModel.open(path, precision);
            return build(path, converted, converted.metadata(), converted, backend, t0,
                    "folder converted in memory (" + precision.describe() + ")");
        } else {
            if (!precision.equals(Precision.AS_STORED)) {
                throw new IllegalArgumentException(path + " is a converted model, loaded at the precision it was"
                        + " converted with; convert the folder again with the dtype you want");
            }
            SafetensorsFile file = openOneFile(path);
            String dtype = file.metadata().getOrDefault(Converter.WEIGHT_DTYPE_KEY, "?");
            return build(path, WeightSource.of(file), file.metadata(), file, backend, t0, "one file (" + dtype + ")");
        }
    }

    /** Maps and validates a converted file, refusing one of another format version. */
    static SafetensorsFile openOneFile(Path path) throws IOException {
        SafetensorsFile file;
        try {
            file = SafetensorsFile.open(path);
        } catch (SafetensorsException e) {
            throw new ModelLoadException(path + " is neither a model folder nor a valid one-file model: "
                    + e.getMessage(), e);
        }
        String version = file.metadata().get(Converter.FORMAT_VERSION_KEY);
        if (!Converter.FORMAT_VERSION.equals(version)) {
            file.close();
            throw new ModelLoadException(path + (version == null
                    ? " is a safetensors file but not a Euterpe model (no " + Converter.FORMAT_VERSION_KEY
                            + " in its metadata); convert the pipeline folder with `euterpe convert`"
                    : " has format version " + version + "; this Euterpe reads version " + Converter.FORMAT_VERSION));
        }
        return file;
    }

    /**
     * Builds the components from tensors named {@code <component>.<key>} and metadata keyed by
     * path within the pipeline folder; {@code owner} (the file or the converted folder) is closed
     * with the model, or at once if building fails.
     */
    private static AudioModel build(Path path, WeightSource stored, Map<String, String> metadata,
            AutoCloseable owner, Backend backend, long t0, String kind) {
        MappedWeights mapped = new MappedWeights();
        WeightSource tensors = mapped.recording(stored);
        // Weights a device backend uploads (or a CPU backend converts) are owned storage: the scope frees
        // them if building fails, and otherwise hands them to the model, which frees them on close.
        try (Scope uploads = Scope.open()) {
            JsonObject modelIndex = json(path, metadata, "model_index.json");
            String cls = modelIndex.getString("_class_name");
            Family family = familyOf(cls, path);
            if (metadata.containsKey("tokenizer/added_tokens.json")) {
                throw new ModelLoadException(path + ": tokenizer/added_tokens.json is not supported (declare added"
                        + " tokens in tokenizer_config.json)");
            }
            for (String f : TOKENIZER_FILES) {
                text(path, metadata, "tokenizer/" + f);
            }
            BpeTokenizer tokenizer = BpeTokenizer.fromStrings(metadata.get("tokenizer/" + BpeTokenizer.VOCAB_FILE),
                    metadata.get("tokenizer/" + BpeTokenizer.MERGES_FILE),
                    metadata.get("tokenizer/" + BpeTokenizer.CONFIG_FILE),
                    metadata.get("tokenizer/" + BpeTokenizer.SPECIAL_TOKENS_FILE));
            Map<String, ComponentFiles> c = new LinkedHashMap<>();
            Map<String, Set<DType>> dtypes = new LinkedHashMap<>();
            for (String name : COMPONENTS) {
                String config = name + "/config.json";
                Set<DType> d = EnumSet.noneOf(DType.class);
                tensors.names().stream().filter(n -> n.startsWith(name + "."))
                        .forEach(n -> d.add(tensors.entry(n).dtype()));
                if (d.isEmpty()) {
                    throw new ModelLoadException(path + ": no weights for component " + name
                            + " (expected " + name + "/diffusion_pytorch_model.safetensors, model.safetensors or a .bin)");
                }
                dtypes.put(name, Collections.unmodifiableSet(d));
                c.put(name, ComponentFiles.of(name, text(path, metadata, config), path + ": " + config, tensors,
                        name + "."));
            }
            int sampleSize = c.get("unet").config().optInt("sample_size", 0);
            ClapTextEncoder textEncoder = ClapTextEncoder.load(c.get("text_encoder"), backend);
            UNet2DConditionModel unet = UNet2DConditionModel.load(c.get("unet"), backend);
            AutoencoderKL vae = AutoencoderKL.load(c.get("vae"), backend);
            SpeechT5HifiGan vocoder = SpeechT5HifiGan.load(c.get("vocoder"), backend);
            JsonObject schedulerConfig = json(path, metadata, "scheduler/scheduler_config.json");
            LoadInfo info = new LoadInfo((System.nanoTime() - t0) / 1e9, ResidentMemory.current(), kind);
            List<Storage> uploaded = uploads.release();
            AutoCloseable weights = () -> {
                uploaded.forEach(Storage::close);
                owner.close();
            };
            AudioModel model = new AudioModel(path, family, backend, tokenizer, textEncoder, unet, vae, vocoder,
                    schedulerConfig, sampleSize, weights, Collections.unmodifiableMap(dtypes), info, mapped);
            model.clapFiles = c.get("text_encoder");
            model.featureExtractorConfig = metadata.get(FEATURE_EXTRACTOR_CONFIG);
            return model;
        } catch (RuntimeException e) {
            closeQuietly(owner);
            throw e;
        }
    }

    private static final String FEATURE_EXTRACTOR_CONFIG = "feature_extractor/preprocessor_config.json";

    /**
     * Whether this model can score audio against text: its text encoder is a whole ClapModel with the audio branch
     * (MusicLDM's; AudioLDM's ships only the text branch) and it has a CLAP feature extractor config.
     */
    public boolean hasClapAudioBranch() {
        return clapFiles != null && featureExtractorConfig != null && ClapModel.hasAudioBranch(clapFiles);
    }

    /**
     * The CLAP scorer over this model's text encoder and its audio branch, loaded on first use (the audio tower's
     * weights are mapped but not touched before).
     *
     * @throws ModelLoadException naming what is missing when the model has no audio branch or no feature extractor
     */
    public synchronized ClapScorer clapScorer() {
        if (closed) {
            throw new IllegalStateException("the model is closed");
        }
        if (clapScorer == null) {
            if (clapFiles == null) {
                throw new ModelLoadException(source + ": this model has no CLAP audio branch");
            }
            if (!ClapModel.hasAudioBranch(clapFiles)) {
                // names the problem: the checkpoint ships only the text branch
                ClapModel.load(clapFiles, textEncoder, backend);
            }
            if (featureExtractorConfig == null) {
                throw new ModelLoadException(source + ": the model has no " + FEATURE_EXTRACTOR_CONFIG
                        + " (the CLAP audio front-end's settings), so it cannot score audio");
            }
            ClapFeatureExtractor fe;
            try {
                fe = ClapFeatureExtractor.fromConfig(new JsonObject(Json.parseLenient(featureExtractorConfig,
                        source + ": " + FEATURE_EXTRACTOR_CONFIG), source + ": " + FEATURE_EXTRACTOR_CONFIG));
            } catch (IllegalArgumentException e) {
                throw new ModelLoadException(source + ": " + FEATURE_EXTRACTOR_CONFIG + ": " + e.getMessage(), e);
            }
            try (Scope uploads = Scope.open()) {
                ClapModel clap = ClapModel.load(clapFiles, textEncoder, backend);
                clapUploads = uploads.release();
                clapScorer = new ClapScorer(clap, fe, tokenizer);
            }
        }
        return clapScorer;
    }

    private static String text(Path path, Map<String, String> metadata, String key) {
        String t = metadata.get(key);
        if (t == null) {
            throw new ModelLoadException(path + ": the model has no " + key);
        }
        return t;
    }

    private static JsonObject json(Path path, Map<String, String> metadata, String key) {
        return new JsonObject(Json.parseLenient(text(path, metadata, key), path + ": " + key), path + ": " + key);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a mapping cannot usefully fail
        }
    }

    /** The dtypes of each component's tensors, e.g. {@code unet -> [BF16, F32]}. */
    public Map<String, Set<DType>> weightDtypes() {
        return weightDtypes;
    }

    /**
     * Drops {@code component}'s memory-mapped weights from the process's resident set, e.g. the
     * text encoder's once the prompt is encoded: the pages stay in the kernel's page cache (as
     * reclaimable memory) and come back on the component's next use, at the cost of page faults
     * (the U-Net's 740 MB: 10-160 ms, against ~50 s for a 10 s clip on CPU). Outputs do not change.
     * Weights that are not mapped from a file (a folder converted to another precision in memory,
     * weights on a GPU) are left as they are.
     *
     * @param component one of text_encoder, unet, vae, vocoder
     * @return the component's mapped bytes, at most what was released (0 when none are mapped)
     * @throws IllegalStateException when the model is closed
     */
    public long releaseWeights(String component) {
        if (!COMPONENTS.contains(component)) {
            throw new IllegalArgumentException("unknown component \"" + component + "\" (components: " + COMPONENTS
                    + ")");
        }
        if (closed) {
            throw new IllegalStateException("the model is closed");
        }
        return mapped.release(component);
    }

    /** The family of a diffusers pipeline class name; {@code where} names the file for the error. */
    static Family familyOf(String pipelineClass, Path where) {
        for (Family f : Family.values()) {
            if (f.className.equals(pipelineClass)) {
                return f;
            }
        }
        throw new ModelLoadException(where + ": unsupported pipeline " + pipelineClass
                + " (supported: AudioLDMPipeline, MusicLDMPipeline)");
    }

    /** What loading took: time and resident memory afterwards. */
    public LoadInfo loadInfo() {
        return loadInfo;
    }

    public Path source() {
        return source;
    }

    public Family family() {
        return family;
    }

    public Backend backend() {
        return backend;
    }

    public BpeTokenizer tokenizer() {
        return tokenizer;
    }

    public ClapTextEncoder textEncoder() {
        return textEncoder;
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    public SpeechT5HifiGan vocoder() {
        return vocoder;
    }

    /** The model's own scheduler config (scheduler/scheduler_config.json). */
    public JsonObject schedulerConfig() {
        return schedulerConfig;
    }

    /** The U-Net's sample_size: the default latent height. */
    public int unetSampleSize() {
        return unetSampleSize;
    }

    @Override
    public void close() {
        closed = true;
        clapUploads.forEach(Storage::close);
        closeQuietly(weights);
    }
}
