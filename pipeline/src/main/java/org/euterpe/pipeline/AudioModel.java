package org.euterpe.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.clap.ClapTextEncoder;
import org.euterpe.nn.unet.UNet2DConditionModel;
import org.euterpe.nn.vae.AutoencoderKL;
import org.euterpe.nn.vocoder.SpeechT5HifiGan;
import org.euterpe.pipeline.tokenizer.BpeTokenizer;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Storage;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;

/**
 * The components of an AudioLDM or MusicLDM pipeline, loaded from a diffusers folder
 * ({@code model_index.json} and one folder per component) onto one backend. Closing it unmaps
 * the weights.
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
    private final List<AutoCloseable> open;

    private AudioModel(Path source, Family family, Backend backend, BpeTokenizer tokenizer,
            ClapTextEncoder textEncoder, UNet2DConditionModel unet, AutoencoderKL vae, SpeechT5HifiGan vocoder,
            JsonObject schedulerConfig, int unetSampleSize, List<AutoCloseable> open) {
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
        this.open = open;
    }

    /** Loads a diffusers pipeline folder onto {@code backend}. */
    public static AudioModel loadFolder(Path dir, Backend backend) throws IOException {
        Path index = dir.resolve("model_index.json");
        if (!Files.isRegularFile(index)) {
            throw new ModelLoadException(dir + " is not a diffusers pipeline folder (no model_index.json)");
        }
        JsonObject modelIndex = new JsonObject(Json.parseLenient(Files.readString(index)), index.toString());
        String cls = modelIndex.getString("_class_name");
        Family family = null;
        for (Family f : Family.values()) {
            if (f.className.equals(cls)) {
                family = f;
            }
        }
        if (family == null) {
            throw new ModelLoadException(index + ": unsupported pipeline " + cls
                    + " (supported: AudioLDMPipeline, MusicLDMPipeline)");
        }
        List<AutoCloseable> open = new ArrayList<>();
        // Weights a device backend uploads are owned storage; the scope frees them if the load fails, and
        // hands them to the model (closed with it) if it succeeds. On the CPU most weights are mappings.
        try (Scope weights = Scope.open()) {
            BpeTokenizer tokenizer = BpeTokenizer.load(dir.resolve("tokenizer"));
            ComponentFiles te = track(open, ComponentFiles.open(dir, "text_encoder"));
            ComponentFiles un = track(open, ComponentFiles.open(dir, "unet"));
            ComponentFiles va = track(open, ComponentFiles.open(dir, "vae"));
            ComponentFiles vo = track(open, ComponentFiles.open(dir, "vocoder"));
            int sampleSize = un.config().optInt("sample_size", 0);
            ClapTextEncoder textEncoder = ClapTextEncoder.load(te, backend);
            UNet2DConditionModel unet = UNet2DConditionModel.load(un, backend);
            AutoencoderKL vae = AutoencoderKL.load(va, backend);
            SpeechT5HifiGan vocoder = SpeechT5HifiGan.load(vo, backend);
            Path sched = dir.resolve("scheduler/scheduler_config.json");
            if (!Files.isRegularFile(sched)) {
                throw new ModelLoadException("missing " + sched);
            }
            JsonObject schedulerConfig = new JsonObject(Json.parseLenient(Files.readString(sched)), sched.toString());
            List<Storage> uploaded = weights.release();
            open.add(() -> uploaded.forEach(Storage::close));
            return new AudioModel(dir, family, backend, tokenizer, textEncoder, unet, vae, vocoder, schedulerConfig,
                    sampleSize, open);
        } catch (IOException | RuntimeException e) {
            closeAll(open);
            throw e;
        }
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> open, T c) {
        open.add(c);
        return c;
    }

    private static void closeAll(List<AutoCloseable> open) {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing a mapping cannot usefully fail
            }
        }
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
        closeAll(open);
    }
}
