package org.euterpe.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.euterpe.converter.Precision;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.nn.clap.ClapTextEncoder;
import org.euterpe.nn.unet.UNet2DConditionModel;
import org.euterpe.nn.vae.AutoencoderKL;
import org.euterpe.nn.vocoder.HifiGanConfig;
import org.euterpe.nn.vocoder.SpeechT5HifiGan;
import org.euterpe.pipeline.tokenizer.BpeTokenizer;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;

/**
 * A pipeline built from its configs alone, with seeded random weights ({@link Weights#random}):
 * full-size models for benchmarks without downloading a checkpoint. It makes noise, not sound.
 *
 * <p>The weights are written to temporary files (one per component, deleted as soon as they are
 * opened; see {@link TempWeightFile}) and memory-mapped back, so they occupy memory as a
 * converted checkpoint's do and a benchmark's peak resident memory is what a user would see.
 *
 * <p>Two config layouts are read: a diffusers folder ({@code unet/config.json}, ...,
 * {@code scheduler/scheduler_config.json}, {@code tokenizer/}) and a flat one ({@code unet.json},
 * ..., {@code scheduler.json}). A flat folder has no vocabulary, so its tokenizer knows only the
 * special tokens and printable ASCII characters (one token per character).
 */
public final class RandomModel {
    public static final List<String> COMPONENTS = List.of("text_encoder", "unet", "vae", "vocoder");
    /** Where the random weights' temporary files go (default: java.io.tmpdir). */
    public static final String TEMP_DIR_PROPERTY = "euterpe.weights.tmpdir";

    private RandomModel() {
    }

    /** True when {@code dir} holds the configs of a pipeline in either layout. */
    public static boolean isConfigFolder(Path dir) {
        return Files.isRegularFile(dir.resolve("model_index.json"))
                && COMPONENTS.stream().allMatch(c -> Files.isRegularFile(configPath(dir, c)));
    }

    /**
     * Builds the {@code components} (of text_encoder, unet, vae, vocoder) of the pipeline
     * configured in {@code dir} onto {@code backend}; the others are null in the model, so a
     * benchmark of one stage holds only that stage's weights.
     */
    public static AudioModel build(Path dir, Backend backend, DType weightDType, long seed, Set<String> components)
            throws IOException {
        return build(dir, backend, weightDType, seed, components,
                Path.of(System.getProperty(TEMP_DIR_PROPERTY, System.getProperty("java.io.tmpdir"))));
    }

    /** As {@link #build(Path, Backend, DType, long, Set)}, the weights' temporary files in {@code tempDir}. */
    static AudioModel build(Path dir, Backend backend, DType weightDType, long seed, Set<String> components,
            Path tempDir) throws IOException {
        if (!isConfigFolder(dir)) {
            throw new ModelLoadException(dir + " holds no pipeline configs (model_index.json and "
                    + COMPONENTS + " as <name>/config.json or <name>.json)");
        }
        for (String c : components) {
            if (!COMPONENTS.contains(c)) {
                throw new IllegalArgumentException("unknown component " + c + " (components: " + COMPONENTS + ")");
            }
        }
        Path index = dir.resolve("model_index.json");
        JsonObject modelIndex = new JsonObject(Json.parseLenient(Files.readString(index), index.toString()), index.toString());
        AudioModel.Family family = AudioModel.familyOf(modelIndex.getString("_class_name"), index);
        MappedWeights mapped = new MappedWeights();
        List<TempWeightFile> files = new ArrayList<>();
        try {
            ClapTextEncoder te = components.contains("text_encoder") ? ClapTextEncoder.load(
                    weights(backend, "text_encoder", seed, weightDType, tempDir, files),
                    config(dir, "text_encoder")) : null;
            UNet2DConditionModel unet = components.contains("unet") ? UNet2DConditionModel.load(config(dir, "unet"),
                    weights(backend, "unet", seed, weightDType, tempDir, files)) : null;
            AutoencoderKL vae = components.contains("vae") ? AutoencoderKL.load(config(dir, "vae"),
                    weights(backend, "vae", seed, weightDType, tempDir, files)) : null;
            SpeechT5HifiGan vocoder = components.contains("vocoder") ? SpeechT5HifiGan.load(
                    weights(backend, "vocoder", seed, weightDType, tempDir, files), config(dir, "vocoder")) : null;
            Path sched = Files.isRegularFile(dir.resolve("scheduler/scheduler_config.json"))
                    ? dir.resolve("scheduler/scheduler_config.json") : dir.resolve("scheduler.json");
            if (!Files.isRegularFile(sched)) {
                throw new ModelLoadException("missing " + sched);
            }
            JsonObject schedulerConfig = new JsonObject(Json.parseLenient(Files.readString(sched), sched.toString()), sched.toString());
            for (TempWeightFile f : files) {
                mapped.add(f.component(), f.segments());
            }
            AutoCloseable close = () -> closeAll(files);
            return new AudioModel(dir, family, backend, tokenizer(dir), te, unet, vae, vocoder, schedulerConfig,
                    config(dir, "unet").optInt("sample_size", 0), close, java.util.Map.of(),
                    new AudioModel.LoadInfo(0, ResidentMemory.current(), "random weights"), mapped);
        } catch (IOException | RuntimeException | Error e) {
            try {
                closeAll(files);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Closes every owner (a {@link TempWeightFile} unmaps and deletes its file), then throws the first
     * failure with the others suppressed.
     */
    public static void closeAll(List<? extends AutoCloseable> owners) throws IOException {
        IOException first = null;
        for (AutoCloseable o : owners) {
            try {
                o.close();
            } catch (Exception e) {
                IOException io = e instanceof IOException x ? x : new IOException(e);
                if (first == null) {
                    first = io;
                } else {
                    first.addSuppressed(io);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** The latent geometry of one clip of {@code seconds}, from the configs alone. */
    public static LatentGeometry geometry(Path dir, double seconds) throws IOException {
        Config unet = config(dir, "unet");
        HifiGanConfig voc = HifiGanConfig.read(config(dir, "vocoder"));
        int vaeScale = 1 << (config(dir, "vae").getIntArray("block_out_channels").length - 1);
        return LatentGeometry.of(seconds, 1, unet.optInt("in_channels", 4), vaeScale, voc.modelInDim(),
                voc.upsampleRates(), voc.samplingRate(), unet.optInt("sample_size", 0));
    }

    /**
     * Random weights for {@code component} of any family (seeded from {@code seed} and the name),
     * written to a temporary file that is mapped back; the file is added to {@code owners}, which the
     * caller closes when the model is done.
     */
    public static Weights mappedRandomWeights(Backend backend, String component, long seed, DType dtype,
            List<AutoCloseable> owners) throws IOException {
        return mappedRandomWeights(backend, component, seed, Precision.of(dtype), owners);
    }

    /**
     * As {@link #mappedRandomWeights(Backend, String, long, DType, List)}, each tensor stored in the
     * dtype {@code precision} gives it, as {@code euterpe convert} would store it: e.g.
     * {@code Precision.recommended(I8)} keeps a text encoder in F16 and quantises the other
     * components' matrices to I8 with per-row scales.
     */
    public static Weights mappedRandomWeights(Backend backend, String component, long seed, Precision precision,
            List<AutoCloseable> owners) throws IOException {
        List<TempWeightFile> files = new ArrayList<>();
        Weights w = weights(backend, component, seed, precision,
                Path.of(System.getProperty(TEMP_DIR_PROPERTY, System.getProperty("java.io.tmpdir"))), files);
        owners.addAll(files);
        return w;
    }

    /**
     * Drops the pages of the random weights' files among {@code owners} from the resident set (they fault back
     * in from the file when read): for a model that copied its weights at load, as a pipeline releases a
     * converted file's pages of it.
     */
    public static void releaseResident(List<AutoCloseable> owners) {
        for (AutoCloseable o : owners) {
            if (o instanceof TempWeightFile f) {
                for (java.lang.foreign.MemorySegment s : f.segments()) {
                    s.unload();
                }
            }
        }
    }

    /**
     * {@code component}'s random weights, each written to a new temporary file (added to
     * {@code files}) and mapped back, so they are paged as a converted checkpoint's would be, and
     * stored in the dtype the converter would give each ({@link Precision#storedDType}: embedding
     * tables stay F32).
     */
    private static Weights weights(Backend backend, String component, long seed, DType dtype, Path tempDir,
            List<TempWeightFile> files) throws IOException {
        return weights(backend, component, seed, Precision.of(dtype), tempDir, files);
    }

    private static Weights weights(Backend backend, String component, long seed, Precision precision, Path tempDir,
            List<TempWeightFile> files) throws IOException {
        TempWeightFile file = TempWeightFile.create(tempDir, component);
        files.add(file);
        // Weights.random asks for matrices and filters only (rank >= 2)
        return Weights.random(backend, component, seed * 1_000_003L + component.hashCode(),
                key -> precision.storedDType(component, key, 2), file::store);
    }



    private static Path configPath(Path dir, String component) {
        Path nested = dir.resolve(component).resolve("config.json");
        return Files.isRegularFile(nested) ? nested : dir.resolve(component + ".json");
    }

    private static Config config(Path dir, String component) throws IOException {
        return ComponentFiles.readConfig(configPath(dir, component));
    }

    private static BpeTokenizer tokenizer(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("tokenizer").resolve(BpeTokenizer.VOCAB_FILE))) {
            return BpeTokenizer.load(dir.resolve("tokenizer"));
        }
        Path cfg = dir.resolve(BpeTokenizer.CONFIG_FILE);
        Path special = dir.resolve(BpeTokenizer.SPECIAL_TOKENS_FILE);
        if (!Files.isRegularFile(cfg)) {
            throw new ModelLoadException("no tokenizer in " + dir + " (tokenizer/ or " + BpeTokenizer.CONFIG_FILE + ")");
        }
        return BpeTokenizer.fromStrings(asciiVocab(), "#version: 0.2\n", Files.readString(cfg),
                Files.isRegularFile(special) ? Files.readString(special) : null);
    }

    /**
     * RoBERTa's special tokens, then the printable ASCII characters and the byte-level space
     * ({@code Ġ}), as a vocab.json text.
     */
    private static String asciiVocab() {
        StringBuilder sb = new StringBuilder("{\"<s>\": 0, \"<pad>\": 1, \"</s>\": 2, \"<unk>\": 3");
        int id = 4;
        for (char c = '!'; c <= '~'; c++) {
            String tok = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : String.valueOf(c);
            sb.append(", \"").append(tok).append("\": ").append(id++);
        }
        sb.append(", \"\u0120\": ").append(id++);
        sb.append(", \"<mask>\": ").append(id).append('}');
        return sb.toString();
    }
}
