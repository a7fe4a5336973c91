package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.pipeline.scheduler.SamplerKind;

/**
 * {@code euterpe interpolate}: between two prompts (slerp of their text embeddings, the same noise) or two
 * clips (DDIM inversion of each, slerp of the noises); one WAV per point.
 */
final class InterpolateCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe interpolate --from TEXT --to TEXT [options]",
            "       euterpe interpolate --from-audio A.wav --to-audio B.wav --prompt TEXT [options]",
            "",
            "  --steps-between N    points between the two ends (default 3); writes N + 2 files,",
            "                       out-0.wav (the first end) to out-<N+1>.wav (the second)",
            "  --steps N            denoising steps (and DDIM inversion steps for clips)",
            "  --guidance G         guidance scale (clips: use 1 to reproduce the ends closely)",
            "  --seconds S          length (clips: default the shorter clip)",
            "  --seed N             noise seed for prompts (default 0)",
            "  --sampler NAME       prompts only (clips always use deterministic DDIM)",
            "  --negative TEXT      negative prompt",
            "  --model PATH, --device D, -o/--output FILE, --float, --force: as for generate",
            "",
            "       euterpe interpolate --model DANCE A.wav B.wav --points N   (Dance Diffusion; see --model DANCE --help)");

    private InterpolateCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        if (DanceCommands.wantsDance(argv)) {
            return DanceCommands.interpolate(argv, out, err);
        }
        Args a = new Args(argv, Set.of("--from", "--to", "--from-audio", "--to-audio", "--prompt", "--steps-between",
                "--steps", "--guidance", "--seconds", "--seed", "--sampler", "--negative", "--model", "--device", "-o",
                "--output"), Set.of("--float", "--force", "--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (!a.positional().isEmpty()) {
            throw new Main.UsageException("unexpected argument \"" + a.positional().get(0) + "\"; see --help");
        }
        boolean prompts = a.has("--from") || a.has("--to");
        boolean clips = a.has("--from-audio") || a.has("--to-audio");
        if (prompts == clips) {
            throw new Main.UsageException("give --from and --to (prompts) or --from-audio and --to-audio (clips)");
        }
        if (prompts && !(a.has("--from") && a.has("--to"))) {
            throw new Main.UsageException("prompt interpolation needs both --from and --to");
        }
        if (clips && !(a.has("--from-audio") && a.has("--to-audio") && a.has("--prompt"))) {
            throw new Main.UsageException("clip interpolation needs --from-audio, --to-audio and --prompt");
        }
        int between = a.has("--steps-between") ? a.intOpt("--steps-between") : 3;
        if (between < 0 || between > 64) {
            throw new Main.UsageException("--steps-between must be between 0 and 64, got " + between);
        }
        String outName = a.get("--output", a.get("-o", "out.wav"));
        if (outName.equals(Outputs.STDOUT)) {
            throw new Main.UsageException("interpolate writes several WAVs; give a file name, not -");
        }
        Path output = Path.of(outName);
        List<Path> wavs = new java.util.ArrayList<>();
        for (int i = 0; i < between + 2; i++) {
            Path p = Outputs.numbered(output, i);
            String refusal = org.euterpe.pipeline.audio.AtomicFiles.refusal(p);
            if (refusal != null) {
                throw new Main.UsageException(refusal);
            }
            if (!a.has("--force") && Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new Main.UsageException(p + " exists; pass --force to replace it");
            }
            wavs.add(p);
        }
        String prompt = prompts ? a.get("--from", "") : a.get("--prompt", "");
        GenerationRequest.Builder b = GenerationRequest.builder(prompt)
                .seed(a.has("--seed") ? a.longOpt("--seed") : 0);
        if (a.has("--steps")) {
            b.steps(a.intOpt("--steps"));
        }
        if (a.has("--guidance")) {
            b.guidanceScale(a.doubleOpt("--guidance"));
        }
        if (a.has("--seconds")) {
            b.seconds(a.doubleOpt("--seconds"));
        }
        if (a.has("--negative")) {
            b.negativePrompt(a.get("--negative", null));
        }
        if (a.has("--sampler")) {
            if (clips) {
                throw new Main.UsageException("--sampler is for prompt interpolation; clips use deterministic DDIM");
            }
            b.sampler(GenerateOptions.usage(() -> SamplerKind.fromCliName(a.get("--sampler", ""))));
        }
        GenerationRequest request = GenerateOptions.usage(b::build);
        String device = GenerateOptions.usage(() -> org.euterpe.kernels.Backends.checkName(a.get("--device", "auto")));
        WavReader.Audio fromClip = clips ? GenerateOptions.readAudio(a.get("--from-audio", null)) : null;
        WavReader.Audio toClip = clips ? GenerateOptions.readAudio(a.get("--to-audio", null)) : null;
        // A path, or a hub repository (from the cache, or pulled into it now).
        Path modelPath = a.has("--model") ? ModelArg.resolve(a.get("--model", null), false, err) : null;
        boolean terminal = System.console() != null && System.console().isTerminal();
        Progress progress = new Progress(err, terminal, System.nanoTime());
        Euterpe.Options opts = Euterpe.Options.defaults().withDevice(device)
                .withLog(msg -> err.println("note: " + msg));
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(modelPath, opts)) {
            List<GenerationResult> points = prompts
                    ? pipe.interpolatePrompts(a.get("--from", ""), a.get("--to", ""), between + 2, request, progress)
                    : pipe.interpolateClips(fromClip, toClip, between + 2, request, progress);
            WavWriter.Format fmt = a.has("--float") ? WavWriter.Format.FLOAT32 : WavWriter.Format.PCM16;
            for (int i = 0; i < points.size(); i++) {
                GenerationResult r = points.get(i);
                Path wav = wavs.get(i);
                Map<String, String> info = new LinkedHashMap<>();
                info.put(WavWriter.TITLE, prompts ? a.get("--from", "") + " -> " + a.get("--to", "") : prompt);
                info.put(WavWriter.COMMENT, String.format(Locale.ROOT, "interpolation point %d of %d (t = %.4f)", i,
                        points.size() - 1, i / (double) (points.size() - 1)));
                info.put(WavWriter.SOFTWARE, "Euterpe");
                WavWriter.write(wav, r.waveforms()[0], r.sampleRate(), fmt, info);
                out.println("wrote " + wav + " (t = " + String.format(Locale.ROOT, "%.4f",
                        i / (double) (points.size() - 1)) + ")");
            }
        }
        return 0;
    }
}
