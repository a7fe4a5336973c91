package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ModelFiles;
import org.euterpe.pipeline.ResidentMemory;
import org.euterpe.pipeline.audio.AtomicFiles;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.pipeline.dance.DanceDiffusionPipeline;

/**
 * The Dance Diffusion verbs of the CLI: {@code generate} with a Dance Diffusion model (no prompt).
 * The model folder or file is recognised by its {@code model_index.json} class.
 */
final class DanceCommands {
    static final String GENERATE_HELP = String.join("\n",
            "Dance Diffusion (unconditional stereo audio; harmonai/maestro-150k, glitch-440k, ...):",
            "  euterpe generate --model DANCE [--seconds S] [--count N] [--steps K] [--seed N] [-o out.wav]",
            "  No prompt, guidance, sampler, Karras, eta or spectrogram: the model is unconditional and",
            "  samples with its IPNDM scheduler (default 100 steps). --count N writes out-1.wav ... out-N.wav.",
            "  Length: any length the U-Net accepts (at least 3 * 2^levels samples: 0.4 s for the 48 kHz",
            "  models, 1.5 s at 16 kHz); it is padded up to a multiple of 2^levels and cut back. Beyond",
            "  the training window (sample_size: 65536 or 131072 samples, 1.4-8 s) the model still runs,",
            "  since it is fully convolutional, but it was never trained on longer context: expect the",
            "  texture to continue without long-range structure, and more repetition the longer it gets.",
            "  Time and memory grow linearly with the length.");

    /** Options of {@code generate} that mean nothing for an unconditional model. */
    private static final List<String> REFUSED = List.of("--negative", "--guidance", "--sampler", "--karras",
            "--eta", "--spectrogram");

    private DanceCommands() {
    }

    /** Whether {@code model} is a Dance Diffusion model (false when it is not there: the caller reports that). */
    static boolean isDance(Path model) throws IOException {
        return Files.exists(model) && DanceDiffusionPipeline.PIPELINE_CLASS.equals(ModelFiles.pipelineClass(model));
    }

    static int generate(Args a, PrintStream out, PrintStream err) throws IOException {
        if (!a.positional().isEmpty()) {
            throw new Main.UsageException("Dance Diffusion is unconditional: it takes no prompt (got \""
                    + String.join(" ", a.positional()) + "\"); use --count for several outputs");
        }
        for (String opt : REFUSED) {
            if (a.has(opt)) {
                throw new Main.UsageException(opt + " does not apply to Dance Diffusion (an unconditional model"
                        + " with its own IPNDM sampler); see --help");
            }
        }
        String device;
        try {
            device = Backends.checkName(a.get("--device", "auto"));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        long seed = a.has("--seed") ? a.longOpt("--seed") : new java.security.SecureRandom().nextLong() & 0xFFFFFFFFL;
        GenerationRequest.Builder b = GenerationRequest.builder().seed(seed);
        if (a.has("--steps")) {
            int s = a.intOpt("--steps");
            if (s < 1) {
                throw new Main.UsageException("--steps must be at least 1, got " + s);
            }
            b.steps(s);
        }
        if (a.has("--seconds")) {
            double s = a.doubleOpt("--seconds");
            if (!(s > 0)) {
                throw new Main.UsageException("--seconds must be positive, got " + a.get("--seconds", ""));
            }
            b.seconds(s);
        }
        if (a.has("--count")) {
            b.waveformsPerPrompt(a.intOpt("--count"));
        }
        String noise = a.get("--noise", "euterpe").toLowerCase(Locale.ROOT);
        b.noise(switch (noise) {
            case "euterpe" -> GenerationRequest.NoiseMode.EUTERPE;
            case "torch" -> GenerationRequest.NoiseMode.TORCH;
            default -> throw new Main.UsageException("--noise must be euterpe or torch, got " + noise);
        });
        GenerationRequest request;
        try {
            request = b.build();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        Outputs outputs = Outputs.plan(a.get("--output", a.get("-o", "out.wav")), null, request.waveformsPerPrompt(),
                a.has("--force"));
        Path modelPath = Path.of(a.get("--model", null));
        boolean terminal = System.console() != null && System.console().isTerminal();
        long t0 = System.nanoTime();
        Progress progress = new Progress(err, terminal, t0);
        Euterpe.Options opts = Euterpe.Options.defaults().withDevice(device).withFallback(a.has("--fallback"))
                .withLog(msg -> err.println("note: " + msg));
        try (DanceDiffusionPipeline pipe = (DanceDiffusionPipeline) Euterpe.load(modelPath, opts)) {
            progress.onStage("load", (System.nanoTime() - t0) / 1e9);
            err.println("device   " + pipe.backend().description());
            GenerationResult r;
            try {
                r = pipe.generate(request, progress);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            long t1 = System.nanoTime();
            Map<String, String> info = new LinkedHashMap<>();
            info.put(WavWriter.TITLE, "Dance Diffusion");
            info.put(WavWriter.COMMENT, String.format(Locale.ROOT, "seed=%d steps=%d model=%s", seed,
                    request.steps() != null ? request.steps() : pipe.defaultSteps(),
                    modelPath.toAbsolutePath()));
            info.put(WavWriter.SOFTWARE, "Euterpe");
            write(r, outputs, a.has("--float"), info, out, err, "seed " + seed);
            progress.onStage("write", (System.nanoTime() - t1) / 1e9);
            err.println("memory   peak resident " + ResidentMemory.format(ResidentMemory.peak()));
        }
        return 0;
    }

    /** Writes every output of {@code r} as one set (see {@link Outputs}), or the one to standard output. */
    static void write(GenerationResult r, Outputs outputs, boolean asFloat, Map<String, String> info, PrintStream out,
            PrintStream err, String what) throws IOException {
        WavWriter.Format fmt = asFloat ? WavWriter.Format.FLOAT32 : WavWriter.Format.PCM16;
        if (outputs.toStdout()) {
            WavWriter.body(r.waveforms()[0], r.channels(), r.sampleRate(), fmt, info).write(out);
            out.flush();
            err.println("wrote standard output (" + r.frames(0) + " frames x " + r.channels() + " channels at "
                    + r.sampleRate() + " Hz, " + what + ")");
            return;
        }
        List<Path> targets = new java.util.ArrayList<>();
        List<AtomicFiles.Body> bodies = new java.util.ArrayList<>();
        for (int i = 0; i < r.waveforms().length; i++) {
            targets.add(outputs.wav(i));
            bodies.add(WavWriter.body(r.waveforms()[i], r.channels(), r.sampleRate(), fmt, info));
        }
        AtomicFiles.writeAll(targets, bodies, p -> out.println("wrote " + p + " (" + r.frames(0) + " frames x "
                + r.channels() + " channels at " + r.sampleRate() + " Hz, " + what + ")"));
    }
}
