package org.euterpe.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.dance.DanceDiffusionPipeline;
import org.euterpe.tensor.Backend;

/**
 * The entry point for embedding Euterpe:
 *
 * <pre>{@code
 * try (AudioPipeline pipe = Euterpe.load(Path.of("audioldm-s-full-v2"), Euterpe.Options.defaults())) {
 *     GenerationResult r = pipe.generate(
 *             GenerationRequest.builder("warm lo-fi piano over rain").seconds(5).seed(42).build(),
 *             ProgressListener.NONE);
 *     WavWriter.write(Path.of("out.wav"), r.waveforms()[0], r.channels(), r.sampleRate(),
 *             WavWriter.Format.PCM16, Map.of());
 * }
 * }</pre>
 *
 * The family comes from the model ({@code model_index.json}'s {@code _class_name}); see
 * {@link AudioPipeline}. Unconditional models take a request without prompts:
 * {@code GenerationRequest.builder().waveformsPerPrompt(2).seconds(4).build()}.
 */
public final class Euterpe {
    private Euterpe() {
    }

    /**
     * Load options.
     *
     * @param device {@code auto}, {@code cpu}, {@code scalar}, {@code opencl[:N]} or {@code cuda[:N]}
     * @param log       receives notes such as a device fallback
     * @param residency what the pipeline does with a stage's mapped weights once the stage is done
     * @param fallback  whether an explicitly requested device that cannot start falls back to the CPU
     *                  (with a note in the log) instead of failing the load; {@code auto} always may
     */
    public record Options(String device, Consumer<String> log, WeightResidency residency, boolean fallback) {
        public static Options defaults() {
            return new Options("auto", msg -> { }, WeightResidency.DEFAULT, false);
        }

        public Options withDevice(String d) {
            return new Options(d, log, residency, fallback);
        }

        public Options withLog(Consumer<String> l) {
            return new Options(device, l, residency, fallback);
        }

        public Options withResidency(WeightResidency r) {
            return new Options(device, log, r, fallback);
        }

        public Options withFallback(boolean f) {
            return new Options(device, log, residency, f);
        }
    }

    /**
     * Loads a model of any family: a one-file model made by {@code euterpe convert}, a diffusers
     * pipeline folder (converted in memory), or null for the bundled tiny model. The family's
     * pipeline is chosen by {@code model_index.json}'s {@code _class_name}. The pipeline must be
     * closed to unmap the weights. The log receives the load time and resident memory.
     *
     * @throws IllegalArgumentException for a malformed device name
     * @throws IllegalStateException    when the JVM lacks the Vector API module (the message names the
     *                                  flag to add), or the device asked for cannot start and
     *                                  {@link Options#fallback()} is false
     */
    public static AudioPipeline load(Path path, Options options) throws IOException {
        String device = checkJvmAndDevice(options);
        Path model = path != null ? path : BundledModel.folder();
        if (!Files.exists(model)) {
            throw new IOException("model not found: " + model);
        }
        String cls = ModelFiles.pipelineClass(model);
        if (DanceDiffusionPipeline.PIPELINE_CLASS.equals(cls)) {
            long t0 = System.nanoTime();
            Backend backend = Backends.open(device, options.log(), options.fallback());
            DanceDiffusionPipeline p = DanceDiffusionPipeline.load(model, backend, Precision.AS_STORED);
            options.log().accept(new AudioModel.LoadInfo((System.nanoTime() - t0) / 1e9,
                    ResidentMemory.current(), p.kind()).describe());
            return p;
        }
        if (org.euterpe.pipeline.stableaudio.StableAudioPipeline.PIPELINE_CLASS.equals(cls)) {
            long t0 = System.nanoTime();
            Backend backend = Backends.open(device, options.log(), options.fallback());
            var p = org.euterpe.pipeline.stableaudio.StableAudioPipeline.load(model, backend)
                    .withResidency(options.residency());
            options.log().accept(new AudioModel.LoadInfo((System.nanoTime() - t0) / 1e9,
                    ResidentMemory.current(), "Stable Audio").describe());
            return p;
        }
        return loadTextToAudio(model, options);
    }

    /** The device name, checked, once the JVM is known to have what the CPU kernels need. */
    private static String checkJvmAndDevice(Options options) {
        String device = Backends.checkName(options.device());
        if (!device.equals("scalar") && !Backends.vectorApiAvailable()) {
            throw new IllegalStateException("Euterpe needs the JDK's Vector API: add --add-modules "
                    + Backends.VECTOR_MODULE + " to the java command line (or use the much slower device \"scalar\")");
        }
        return device;
    }

    /**
     * Loads an AudioLDM or MusicLDM model (as {@link #load}), for callers that use the
     * text-to-audio pipeline's own API (traces, weight residency, the model's components).
     */
    public static TextToAudioPipeline loadTextToAudio(Path path, Options options) throws IOException {
        String device = checkJvmAndDevice(options);
        Path model = path != null ? path : BundledModel.folder();
        if (!Files.exists(model)) {
            throw new IOException("model not found: " + model);
        }
        Backend backend = Backends.open(device, options.log(), options.fallback());
        AudioModel m = AudioModel.load(model, backend);
        options.log().accept(m.loadInfo().describe());
        return new TextToAudioPipeline(m, options.residency());
    }
}
