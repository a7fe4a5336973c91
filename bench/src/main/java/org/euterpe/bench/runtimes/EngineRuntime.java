package org.euterpe.bench.runtimes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.PartProgress;
import org.euterpe.nn.clap.ClapTextEncoder;
import org.euterpe.nn.unet.UNet2DConditionModel;
import org.euterpe.nn.vae.AutoencoderKL;
import org.euterpe.nn.vocoder.SpeechT5HifiGan;
import org.euterpe.pipeline.AudioModel;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * The engine on its CPU backend, each stage as {@link TextToAudioPipeline} runs it (the VAE in tiles and
 * the vocoder in chunks past the pipeline's thresholds). Weights: the export's diffusers folder
 * ({@code model/}, f32, mapped), or with a variant ({@code bf16}, {@code int8}) the one-file model
 * {@code model-<variant>.safetensors} that {@code euterpe convert --dtype <variant>} wrote from it.
 */
public final class EngineRuntime implements StageRuntime {
    private final Backend backend = Backends.cpu();
    private final String variant;
    private final List<AutoCloseable> owned = new ArrayList<>();

    public EngineRuntime(String variant) {
        this.variant = variant;
    }

    @Override
    public Stage load(Path work, String stage) throws Exception {
        String component = switch (stage) {
            case "vae_decode" -> "vae";
            default -> stage;
        };
        if (variant != null) {
            AudioModel m = AudioModel.load(work.resolve("model-" + variant + ".safetensors"), backend);
            owned.add(m);
            return stage(stage, m.textEncoder(), m.unet(), m.vae(), m.vocoder());
        }
        ComponentFiles files = ComponentFiles.open(work.resolve("model"), component);
        owned.add(files);
        return switch (stage) {
            case "text_encoder" -> stage(stage, ClapTextEncoder.load(files, backend), null, null, null);
            case "unet" -> stage(stage, null, UNet2DConditionModel.load(files, backend), null, null);
            case "vae_decode" -> stage(stage, null, null, AutoencoderKL.load(files, backend), null);
            case "vocoder" -> stage(stage, null, null, null, SpeechT5HifiGan.load(files, backend));
            default -> throw new IllegalArgumentException("unknown stage " + stage);
        };
    }

    private Stage stage(String stage, ClapTextEncoder te, UNet2DConditionModel unet, AutoencoderKL vae,
            SpeechT5HifiGan vocoder) {
        return switch (stage) {
            case "text_encoder" -> in -> {
                try (Scope s = Scope.open()) {
                    return te.textEmbeds(in.get(0).longRows(), in.get(1).longRows()).toFloatArray();
                }
            };
            case "unet" -> in -> {
                try (Scope s = Scope.open()) {
                    Tensor x = tensor(in.get(0));
                    Tensor labels = tensor(in.get(2));
                    return unet.forward(x, in.get(1).floats()[0], null, labels).toFloatArray();
                }
            };
            case "vae_decode" -> in -> {
                try (Scope s = Scope.open()) {
                    return vae.decodeTiled(tensor(in.get(0)), TextToAudioPipeline.VAE_TILING, PartProgress.NONE)
                            .toFloatArray();
                }
            };
            case "vocoder" -> in -> {
                try (Scope s = Scope.open()) {
                    return vocoder.forwardChunked(tensor(in.get(0)), TextToAudioPipeline.vocoderChunkFrames(vocoder),
                            PartProgress.NONE).toFloatArray();
                }
            };
            default -> throw new IllegalArgumentException("unknown stage " + stage);
        };
    }

    private Tensor tensor(Npy a) {
        return backend.fromArray(a.floats(), Shape.of(a.intShape()));
    }

    @Override
    public String version() {
        String v = EngineRuntime.class.getPackage().getImplementationVersion();
        return "euterpe " + (v != null ? v : "(worktree build)") + ", " + backend.description()
                + (variant != null ? ", " + variant + " weights" : ", f32 weights");
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : owned.reversed()) {
            c.close();
        }
    }
}
