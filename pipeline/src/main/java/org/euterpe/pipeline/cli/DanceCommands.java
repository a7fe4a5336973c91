package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ModelFiles;
import org.euterpe.pipeline.ResidentMemory;
import org.euterpe.pipeline.audio.AtomicFiles;
import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.pipeline.dance.DanceDiffusionPipeline;

/**
 * The Dance Diffusion verbs of the CLI, chosen when {@code --model} is a model whose
 * {@code model_index.json} names {@code DanceDiffusionPipeline}: {@code generate} (no prompt),
 * {@code regenerate --init-audio FILE --noise-level L} and {@code interpolate A.wav B.wav --points N}.
 * Outputs are planned before any work and written all at once ({@link Outputs}, {@link AtomicFiles}).
 */
final class DanceCommands {
    static final String GENERATE_HELP = String.join("\n",
            "Dance Diffusion (unconditional stereo audio; harmonai/maestro-150k, glitch-440k, ...):",
            "  euterpe generate --model DANCE [--seconds S] [--count N] [--steps K] [--seed N] [-o out.wav]",
            "  No prompt, guidance, sampler, Karras, eta or spectrogram: the model is unconditional and",
            "  samples with its IPNDM scheduler (default 100 steps). --count N writes out-1.wav ... out-N.wav.",
            "  Length: any length the U-Net accepts (at least 3 * 2^levels samples: 0.5 s for the 48 kHz",
            "  models, 1.5 s at 16 kHz); it is padded up to a multiple of 2^levels and cut back. Beyond",
            "  the training window (sample_size: 65536 or 131072 samples, 1.4-8 s) the model still runs,",
            "  since it is fully convolutional, but it was never trained on longer context: expect the",
            "  texture to continue without long-range structure, and more repetition the longer it gets.",
            "  Time and memory grow linearly with the length.",
            "  Also: euterpe regenerate --help, euterpe interpolate --model DANCE --help.");

    static final String REGENERATE_HELP = String.join("\n",
            "usage: euterpe regenerate --model DANCE --init-audio FILE [options]",
            "",
            "Dance Diffusion's \"regenerate\" (style transfer): FILE is noised to the crash time below the noise",
            "level and denoised with v-DDIM, so low levels keep it close and high levels keep only its gist.",
            "FILE (WAV, any rate and channels) is resampled and mixed to the model's rate and channels, and",
            "padded with silence to a legal length (cut back afterwards; a note says so).",
            "",
            "  --noise-level L      in (0, 1] (default 0.3, the notebook's); near 0 returns FILE",
            "  --steps N            steps of the whole schedule 1 -> 0 (default 100); about L * N are run",
            "  --count N            variations, each with its own noise (out-1.wav ...)",
            "  --seed N, --noise euterpe|torch, --device D, -o/--output FILE, --float, --force: as for generate");

    static final String INTERPOLATE_HELP = String.join("\n",
            "usage: euterpe interpolate --model DANCE A.wav B.wav [options]",
            "",
            "Dance Diffusion: both clips are inverted to noise (reverse v-DDIM), the noises slerped per channel,",
            "and every point denoised: out-1.wav (A) ... out-N.wav (B). The ends reconstruct the inputs up to",
            "the inversion's error. Clips are resampled and mixed to the model, and cut to the shorter one.",
            "",
            "  --points N           outputs, both ends included (default 5)",
            "  --steps N            inversion and denoising steps each (default 100)",
            "  --device D, -o/--output FILE, --float, --force: as for generate");

    /** Options of {@code generate} that mean nothing for an unconditional model. */
    private static final List<String> REFUSED = List.of("--prompt", "--negative", "--guidance", "--sampler",
            "--karras", "--eta", "--spectrogram", "--strength", "--inpaint", "--mask-start", "--mask-end",
            "--continue", "--keep-weights");
    private static final Set<String> COMMON_VALUES = Set.of("--model", "--device", "--seed", "--steps", "--noise",
            "-o", "--output");
    private static final Set<String> COMMON_FLAGS = Set.of("--float", "--force", "--fallback", "--help", "-h");

    private DanceCommands() {
    }

    /** Whether {@code model} is a Dance Diffusion model (false when it is not there: the caller reports that). */
    static boolean isDance(Path model) throws IOException {
        return Files.exists(model) && DanceDiffusionPipeline.PIPELINE_CLASS.equals(ModelFiles.pipelineClass(model));
    }

    /** The {@code --model} value of a command line, before it is parsed, or null. */
    static Path modelArg(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            if (argv[i].equals("--")) {
                return null;
            }
            if (argv[i].equals("--model") && i + 1 < argv.length) {
                return Path.of(argv[i + 1]);
            }
            if (argv[i].startsWith("--model=")) {
                return Path.of(argv[i].substring("--model=".length()));
            }
        }
        return null;
    }

    /** Whether the command line names a Dance Diffusion model. */
    static boolean wantsDance(String[] argv) throws IOException {
        Path m = modelArg(argv);
        return m != null && isDance(m);
    }

    private static Args parse(String[] argv, Set<String> values, Set<String> flags) {
        Set<String> v = new java.util.HashSet<>(COMMON_VALUES);
        v.addAll(values);
        Set<String> f = new java.util.HashSet<>(COMMON_FLAGS);
        f.addAll(flags);
        return new Args(argv, v, f);
    }

    // ------------------------------------------------------------ generate

    static int generate(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Set<String> refusedValues = Set.of("--prompt", "--negative", "--guidance", "--sampler", "--eta",
                "--spectrogram", "--strength", "--inpaint", "--mask-start", "--mask-end", "--continue");
        Set<String> values = new java.util.HashSet<>(refusedValues);
        values.addAll(Set.of("--seconds", "--count", "--init-audio", "--noise-level"));
        Args a = parse(argv, values, Set.of("--karras", "--keep-weights", "--verbose"));
        if (a.has("--help") || a.has("-h")) {
            out.println(GENERATE_HELP);
            return 0;
        }
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
        if (a.has("--init-audio")) { // generate --init-audio is regenerate
            return regenerate(argv, out, err);
        }
        if (a.has("--noise-level")) {
            throw new Main.UsageException("--noise-level goes with --init-audio (regenerate)");
        }
        long seed = seed(a);
        GenerationRequest.Builder b = GenerationRequest.builder().seed(seed);
        if (a.has("--steps")) {
            b.steps(steps(a));
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
        b.noise(noise(a));
        GenerationRequest request;
        try {
            request = b.build();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        Outputs outputs = Outputs.plan(a.get("--output", a.get("-o", "out.wav")), null, request.waveformsPerPrompt(),
                a.has("--force"));
        PrintStream say = outputs.toStdout() ? err : out;
        return run(a, out, err, (pipe, progress) -> {
            try {
                pipe.geometry(request.seconds()); // a length error before any work
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            return pipe.generate(request, progress);
        }, outputs, say, String.format(Locale.ROOT, "verb=generate seed=%d steps=%d", seed,
                request.steps() != null ? request.steps() : DanceDiffusionPipeline.DEFAULT_STEPS));
    }

    // ------------------------------------------------------------ regenerate

    static int regenerate(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = parse(argv, Set.of("--init-audio", "--noise-level", "--count"), Set.of());
        if (a.has("--help") || a.has("-h")) {
            out.println(REGENERATE_HELP);
            return 0;
        }
        if (!a.positional().isEmpty()) {
            throw new Main.UsageException("unexpected argument \"" + a.positional().get(0) + "\" (Dance Diffusion"
                    + " takes no prompt); see --help");
        }
        if (!a.has("--model")) {
            throw new Main.UsageException("regenerate needs --model, a Dance Diffusion model");
        }
        if (!a.has("--init-audio")) {
            throw new Main.UsageException("regenerate needs --init-audio FILE");
        }
        double level = a.has("--noise-level") ? a.doubleOpt("--noise-level") : 0.3;
        if (!(level > 0 && level <= 1)) {
            throw new Main.UsageException("--noise-level must be in (0, 1], got " + a.get("--noise-level", ""));
        }
        int count = a.has("--count") ? a.intOpt("--count") : 1;
        if (count < 1 || count > 64) {
            throw new Main.UsageException("--count must be between 1 and 64, got " + count);
        }
        int steps = a.has("--steps") ? steps(a) : DanceDiffusionPipeline.DEFAULT_STEPS;
        long seed = seed(a);
        GenerationRequest.NoiseMode noise = noise(a);
        WavReader.Audio input = GenerateCommand.readAudio(a.get("--init-audio", null));
        Outputs outputs = Outputs.plan(a.get("--output", a.get("-o", "out.wav")), null, count, a.has("--force"));
        PrintStream say = outputs.toStdout() ? err : out;
        return run(a, out, err, (pipe, progress) -> {
            note(pipe.prepare(input, 0), err);
            return pipe.regenerate(input, level, steps, count, seed, noise, progress);
        }, outputs, say, String.format(Locale.ROOT, "verb=regenerate noise_level=%s seed=%d steps=%d source=%s",
                level, seed, steps, a.get("--init-audio", null)));
    }

    // ------------------------------------------------------------ interpolate

    static int interpolate(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = parse(argv, Set.of("--points", "--from-audio", "--to-audio"), Set.of());
        if (a.has("--help") || a.has("-h")) {
            out.println(INTERPOLATE_HELP);
            return 0;
        }
        List<String> clips = new ArrayList<>(a.positional());
        if (a.has("--from-audio")) {
            clips.add(0, a.get("--from-audio", null));
        }
        if (a.has("--to-audio")) {
            clips.add(a.get("--to-audio", null));
        }
        if (clips.size() != 2) {
            throw new Main.UsageException("give two WAV files, A.wav B.wav (got " + clips.size() + "); see --help");
        }
        int points = a.has("--points") ? a.intOpt("--points") : 5;
        if (points < 2 || points > 64) {
            throw new Main.UsageException("--points must be between 2 and 64 (both ends included), got " + points);
        }
        int steps = a.has("--steps") ? steps(a) : DanceDiffusionPipeline.DEFAULT_STEPS;
        if (a.has("--seed") || a.has("--noise")) {
            throw new Main.UsageException("interpolate is deterministic: it draws no noise (no --seed or --noise)");
        }
        WavReader.Audio from = GenerateCommand.readAudio(clips.get(0));
        WavReader.Audio to = GenerateCommand.readAudio(clips.get(1));
        Outputs outputs = Outputs.plan(a.get("--output", a.get("-o", "out.wav")), null, points, a.has("--force"));
        PrintStream say = outputs.toStdout() ? err : out;
        return run(a, out, err, (pipe, progress) -> {
            note(pipe.prepare(from, 0), err);
            note(pipe.prepare(to, 0), err);
            return pipe.interpolate(from, to, points, steps, progress);
        }, outputs, say, String.format(Locale.ROOT, "verb=interpolate points=%d steps=%d from=%s to=%s", points, steps,
                clips.get(0), clips.get(1)));
    }

    // ------------------------------------------------------------ shared

    @FunctionalInterface
    private interface Verb {
        GenerationResult run(DanceDiffusionPipeline pipe, Progress progress);
    }

    private static int run(Args a, PrintStream out, PrintStream err, Verb verb, Outputs outputs, PrintStream say,
            String comment) throws IOException {
        Path modelPath = Path.of(a.get("--model", null));
        String device;
        try {
            device = Backends.checkName(a.get("--device", "auto"));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
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
                r = verb.run(pipe, progress);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            long t1 = System.nanoTime();
            Map<String, String> info = new LinkedHashMap<>();
            info.put(WavWriter.TITLE, "Dance Diffusion");
            info.put(WavWriter.COMMENT, comment + " model=" + modelPath.toAbsolutePath());
            info.put(WavWriter.SOFTWARE, "Euterpe");
            WavWriter.Format fmt = a.has("--float") ? WavWriter.Format.FLOAT32 : WavWriter.Format.PCM16;
            if (outputs.toStdout()) {
                WavWriter.body(r.waveforms()[0], r.channels(), r.sampleRate(), fmt, info).write(out);
                out.flush();
                err.println("wrote standard output (" + r.frames(0) + " frames x " + r.channels() + " channels at "
                        + r.sampleRate() + " Hz)");
            } else {
                List<Path> targets = new ArrayList<>();
                List<AtomicFiles.Body> bodies = new ArrayList<>();
                for (int i = 0; i < r.waveforms().length; i++) {
                    targets.add(outputs.wav(i));
                    bodies.add(WavWriter.body(r.waveforms()[i], r.channels(), r.sampleRate(), fmt, info));
                }
                AtomicFiles.writeAll(targets, bodies, p -> say.println("wrote " + p + " (" + r.frames(0)
                        + " frames x " + r.channels() + " channels at " + r.sampleRate() + " Hz)"));
            }
            progress.onStage("write", (System.nanoTime() - t1) / 1e9);
            err.println("memory   peak resident " + ResidentMemory.format(ResidentMemory.peak()));
        }
        return 0;
    }

    private static void note(DanceDiffusionPipeline.PreparedAudio p, PrintStream err) {
        if (!p.note().isEmpty()) {
            err.println("note: input audio: " + p.note());
        }
    }

    private static long seed(Args a) {
        return a.has("--seed") ? a.longOpt("--seed") : new java.security.SecureRandom().nextLong() & 0xFFFFFFFFL;
    }

    private static int steps(Args a) {
        int s = a.intOpt("--steps");
        if (s < 1 || s > 1000) {
            throw new Main.UsageException("--steps must be between 1 and 1000, got " + s);
        }
        return s;
    }

    private static GenerationRequest.NoiseMode noise(Args a) {
        String noise = a.get("--noise", "euterpe").toLowerCase(Locale.ROOT);
        return switch (noise) {
            case "euterpe" -> GenerationRequest.NoiseMode.EUTERPE;
            case "torch" -> GenerationRequest.NoiseMode.TORCH;
            default -> throw new Main.UsageException("--noise must be euterpe or torch, got " + noise);
        };
    }
}
