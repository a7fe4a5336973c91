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
            "  No prompt, guidance, sampler, Karras or eta: the model is unconditional and",
            "  samples with its IPNDM scheduler (default 100 steps). --count N writes out-1.wav ... out-N.wav.",
            "  Length: any length the U-Net accepts (at least 3 * 2^levels samples: 0.5 s for the 48 kHz",
            "  models, 1.5 s at 16 kHz); it is padded up to a multiple of 2^levels and cut back. Beyond",
            "  the training window (sample_size: 65536 or 131072 samples, 1.4-8 s) the model still runs,",
            "  since it is fully convolutional, but it was never trained on longer context: expect the",
            "  texture to continue without long-range structure, and more repetition the longer it gets.",
            "  Time and memory grow linearly with the length. --noise, --model/--convert, --device,",
            "  --fallback, -o, --float, --spectrogram (a log-mel PNG of the audio), --force and --verbose",
            "  work as above.",
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
            "  --steps N            steps of the whole schedule 1 -> 0, 1 to 1000 (default 100); about L * N run",
            "  --count N            variations, 1 to 64, each with its own noise (out-1.wav ...)",
            "  --seed N, --noise euterpe|torch, --model M, --convert, --device D, --fallback, -o/--output FILE,",
            "  --float, --spectrogram FILE, --force, --verbose: as for generate");

    static final String INTERPOLATE_HELP = String.join("\n",
            "usage: euterpe interpolate --model DANCE A.wav B.wav [options]",
            "",
            "Dance Diffusion: both clips are inverted to noise (reverse v-DDIM), the noises slerped per channel,",
            "and every point denoised: out-1.wav (A) ... out-N.wav (B). The ends reconstruct the inputs up to",
            "the inversion's error. Clips are resampled and mixed to the model, and cut to the shorter one.",
            "",
            "  --points N           outputs, both ends included (default 5)",
            "  --steps N            inversion and denoising steps each (default 100)",
            "  --device D, --fallback, -o/--output FILE, --float, --spectrogram FILE, --force, --verbose: as for",
            "  generate");

    /** What a refused option of {@code generate} is told it does not apply to. */
    private static final String FAMILY = "Dance Diffusion (an unconditional model with its own IPNDM sampler)";

    private DanceCommands() {
    }

    /** Whether {@code model} is a Dance Diffusion model (false when it is not there: the caller reports that). */
    static boolean isDance(Path model) throws IOException {
        return Files.exists(model) && DanceDiffusionPipeline.PIPELINE_CLASS.equals(ModelFiles.pipelineClass(model));
    }

    /** Whether the command line names a Dance Diffusion model. */
    static boolean wantsDance(String[] argv) throws IOException {
        Path m = ModelArg.peek(argv);
        return m != null && isDance(m);
    }

    // ------------------------------------------------------------ generate

    static int generate(String[] argv, PrintStream out, PrintStream err) throws IOException {
        GenerateOptions o = GenerateOptions.generate(argv, FAMILY, Set.of("--seconds", "--count", "--seed", "--noise",
                "--init-audio", "--noise-level", "--spectrogram"), Set.of("--convert"));
        if (o.help()) {
            out.println(GENERATE_HELP);
            return 0;
        }
        if (!o.args().positional().isEmpty()) {
            throw new Main.UsageException("Dance Diffusion is unconditional: it takes no prompt (got \""
                    + String.join(" ", o.args().positional()) + "\"); use --count for several outputs");
        }
        if (o.has("--init-audio")) { // generate --init-audio is regenerate
            return regenerate(argv, out, err);
        }
        o.requires("--init-audio", "--noise-level");
        GenerationRequest.Builder b = o.request(GenerationRequest.builder());
        Double seconds = o.seconds();
        if (seconds != null) {
            b.seconds(seconds);
        }
        GenerationRequest request = GenerateOptions.usage(b::build);
        Outputs outputs = o.outputs(request.waveformsPerPrompt(), true);
        return run(o, out, err, (pipe, progress) -> {
            GenerateOptions.usage(() -> pipe.geometry(request.seconds())); // a length error before any work
            return pipe.generate(request, progress);
        }, outputs, String.format(Locale.ROOT, "verb=generate seed=%d steps=%d", request.seed(),
                request.steps() != null ? request.steps() : DanceDiffusionPipeline.DEFAULT_STEPS));
    }

    // ------------------------------------------------------------ regenerate

    static int regenerate(String[] argv, PrintStream out, PrintStream err) throws IOException {
        GenerateOptions o = GenerateOptions.verb(argv, Set.of("--init-audio", "--noise-level", "--count", "--seed",
                "--noise", "--spectrogram"), Set.of("--convert"));
        if (o.help()) {
            out.println(REGENERATE_HELP);
            return 0;
        }
        if (!o.args().positional().isEmpty()) {
            throw new Main.UsageException("unexpected argument \"" + o.args().positional().get(0) + "\" (Dance"
                    + " Diffusion takes no prompt); see --help");
        }
        if (!o.has("--model")) {
            throw new Main.UsageException("regenerate needs --model, a Dance Diffusion model");
        }
        if (!o.has("--init-audio")) {
            throw new Main.UsageException("regenerate needs --init-audio FILE");
        }
        double level = o.has("--noise-level") ? o.args().doubleOpt("--noise-level") : 0.3;
        if (!(level > 0 && level <= 1)) {
            throw new Main.UsageException("--noise-level must be in (0, 1], got " + o.get("--noise-level"));
        }
        int count = o.count();
        int steps = o.steps(DanceDiffusionPipeline.DEFAULT_STEPS);
        long seed = o.seed();
        GenerationRequest.NoiseMode noise = o.noise();
        WavReader.Audio input = o.audio("--init-audio");
        Outputs outputs = o.outputs(count, true);
        return run(o, out, err, (pipe, progress) -> {
            note(pipe.prepare(input, 0), err);
            return pipe.regenerate(input, level, steps, count, seed, noise, progress);
        }, outputs, String.format(Locale.ROOT, "verb=regenerate noise_level=%s seed=%d steps=%d source=%s",
                level, seed, steps, o.get("--init-audio")));
    }

    // ------------------------------------------------------------ interpolate

    static int interpolate(String[] argv, PrintStream out, PrintStream err) throws IOException {
        GenerateOptions o = GenerateOptions.verb(argv, Set.of("--points", "--from-audio", "--to-audio", "--seed",
                "--noise", "--spectrogram"), Set.of());
        if (o.help()) {
            out.println(INTERPOLATE_HELP);
            return 0;
        }
        List<String> clips = new ArrayList<>(o.args().positional());
        if (o.has("--from-audio")) {
            clips.add(0, o.get("--from-audio"));
        }
        if (o.has("--to-audio")) {
            clips.add(o.get("--to-audio"));
        }
        if (clips.size() != 2) {
            throw new Main.UsageException("give two WAV files, A.wav B.wav (got " + clips.size() + "); see --help");
        }
        int points = o.bounded("--points", 2, GenerateOptions.MAX_COUNT, 5);
        int steps = o.steps(DanceDiffusionPipeline.DEFAULT_STEPS);
        if (o.has("--seed") || o.has("--noise")) {
            throw new Main.UsageException("interpolate is deterministic: it draws no noise (no --seed or --noise)");
        }
        WavReader.Audio from = GenerateOptions.readAudio(clips.get(0));
        WavReader.Audio to = GenerateOptions.readAudio(clips.get(1));
        Outputs outputs = o.outputs(points, true);
        return run(o, out, err, (pipe, progress) -> {
            note(pipe.prepare(from, 0), err);
            note(pipe.prepare(to, 0), err);
            return pipe.interpolate(from, to, points, steps, progress);
        }, outputs, String.format(Locale.ROOT, "verb=interpolate points=%d steps=%d from=%s to=%s", points, steps,
                clips.get(0), clips.get(1)));
    }

    // ------------------------------------------------------------ shared

    @FunctionalInterface
    private interface Verb {
        GenerationResult run(DanceDiffusionPipeline pipe, Progress progress);
    }

    private static int run(GenerateOptions o, PrintStream out, PrintStream err, Verb verb, Outputs outputs,
            String comment) throws IOException {
        String device = o.device();
        Path modelPath = o.model(err);
        if (Files.exists(modelPath) && !isDance(modelPath)) { // regenerate or interpolate with another family's model
            throw new Main.UsageException(modelPath + " is not a Dance Diffusion model (its model_index.json names "
                    + ModelFiles.pipelineClass(modelPath) + ")");
        }
        long t0 = System.nanoTime();
        Progress progress = GenerateOptions.progress(err, t0);
        Euterpe.Options opts = Euterpe.Options.defaults().withDevice(device).withFallback(o.has("--fallback"))
                .withLog(msg -> err.println("note: " + msg));
        try (DanceDiffusionPipeline pipe = (DanceDiffusionPipeline) Euterpe.load(modelPath, opts)) {
            progress.onStage("load", (System.nanoTime() - t0) / 1e9);
            err.println("device   " + pipe.backend().description());
            if (o.verbose()) {
                err.println("settings " + comment + " device=" + device);
            }
            GenerationResult r = GenerateOptions.usage(() -> verb.run(pipe, progress));
            long t1 = System.nanoTime();
            Map<String, String> info = new LinkedHashMap<>();
            info.put(WavWriter.TITLE, "Dance Diffusion");
            info.put(WavWriter.COMMENT, comment + " model=" + modelPath.toAbsolutePath());
            info.put(WavWriter.SOFTWARE, "Euterpe");
            WavWriter.Format fmt = o.format();
            outputs.write(r.waveforms().length, i -> WavWriter.body(r.waveforms()[i], r.channels(), r.sampleRate(), fmt,
                    info), i -> Outputs.waveformSpectrogram(Outputs.deinterleave(r.waveforms()[i], r.channels()),
                            r.sampleRate()), r.frames(0) + " frames x " + r.channels() + " channels at " + r.sampleRate() + " Hz",
                    out, err);
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
}
