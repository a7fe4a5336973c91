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
import org.euterpe.pipeline.BundledModel;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ResidentMemory;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.WeightResidency;
import org.euterpe.pipeline.audio.AtomicFiles;
import org.euterpe.pipeline.audio.SpectrogramPng;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.pipeline.scheduler.SamplerKind;
import org.euterpe.pipeline.tokenizer.BpeTokenizer;
import org.euterpe.tensor.json.Json;

/** {@code euterpe generate "PROMPT" [options]}: a prompt in, a WAV (and optionally a PNG) out. */
final class GenerateCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe generate \"PROMPT\" [options]           (AudioLDM, MusicLDM; or --prompt TEXT, or",
            "                                                     -- PROMPT for a prompt starting with a dash)",
            "       euterpe generate --model DANCE [options]       (Dance Diffusion: no prompt; see below)",
            "",
            "  --negative TEXT      negative prompt",
            "  --steps N            denoising steps (model default: AudioLDM 10, MusicLDM 200)",
            "  --guidance G         classifier-free guidance scale; <= 1 disables it (default 2.5 / 2.0)",
            "  --seconds S          audio length (default: the model's sample size; the bundled model: "
                    + fmt(BundledModel.DEFAULT_SECONDS) + " s)",
            "  --seed N             random seed (default: random, printed)",
            "  --count N            waveforms per prompt (written as out-1.wav, out-2.wav, ...)",
            "  --sampler NAME       ddim|pndm|lms|euler|euler-a|heun|dpm++2m|unipc (default: the model's)",
            "  --karras             Karras sigmas (" + SamplerKind.karrasNames() + " only)",
            "  --eta E              DDIM stochasticity in [0, 1] (ddim only; default 0)",
            "  --model PATH         a model converted by `euterpe convert`, or a diffusers folder (converted",
            "                       in memory at each load); default: the bundled tiny model",
            "  --device D           auto|cpu|scalar|opencl[:N]|cuda[:N] (default auto: CUDA, an OpenCL GPU, or",
            "                       the CPU). A device named explicitly must start, or the run fails (exit 1)",
            "  --fallback           use the CPU when the device named by --device cannot start",
            "  --keep-weights       keep every stage's weights resident (default: each stage's mapped",
            "                       weights leave the resident set once it is done; see the README)",
            "  --noise MODE         euterpe|torch: torch reproduces torch.randn seed for seed",
            "  -o, --output FILE    output WAV (default out.wav); - writes one WAV to standard output",
            "  --float              32-bit float WAV instead of 16-bit PCM",
            "  --spectrogram FILE   also write the mel spectrogram as a PNG",
            "  --force              replace outputs that exist (only regular files are ever replaced)",
            "  --verbose            print the settings actually used, as an equivalent command",
            "",
            "audio in (WAV of any rate and channels; mixed to mono, resampled to the model's rate):",
            "  --init-audio FILE    regenerate FILE with the prompt (style transfer); needs --strength",
            "  --strength S         in (0, 1]: near 0 returns FILE (through the VAE), 1 ignores it",
            "  --inpaint FILE       regenerate FILE between --mask-start and --mask-end (seconds), keep the rest",
            "  --continue FILE      keep FILE and generate --seconds N more after it",
            "",
            "Outputs are written to temporary files and renamed into place once all are ready, so an",
            "interrupted run leaves none, or those it printed a \"wrote\" line for.",
            "",
            DanceCommands.GENERATE_HELP);

    private GenerateCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args(argv, Set.of("--prompt", "--negative", "--steps", "--guidance", "--seconds", "--seed",
                "--count", "--sampler", "--eta", "--model", "--device", "--noise", "-o", "--output", "--spectrogram",
                "--init-audio", "--strength", "--inpaint", "--mask-start", "--mask-end", "--continue"),
                Set.of("--karras", "--float", "--keep-weights", "--fallback", "--force", "--verbose", "--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.has("--model") && DanceCommands.isDance(Path.of(a.get("--model", null)))) {
            return DanceCommands.generate(a, out, err);
        }
        int prompts = a.positional().size() + (a.has("--prompt") ? 1 : 0);
        if (prompts != 1) {
            throw new Main.UsageException("give exactly one prompt in quotes (got " + prompts
                    + "); a prompt starting with a dash goes after -- or in --prompt; see --help");
        }
        String prompt = a.has("--prompt") ? a.get("--prompt", null) : a.positional().get(0);
        String device;
        try {
            device = Backends.checkName(a.get("--device", "auto"));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        long seed = a.has("--seed") ? a.longOpt("--seed") : new java.security.SecureRandom().nextLong() & 0xFFFFFFFFL;
        GenerationRequest.Builder b = GenerationRequest.builder(prompt).seed(seed);
        if (a.has("--negative")) {
            b.negativePrompt(a.get("--negative", null));
        }
        if (a.has("--steps")) {
            int s = a.intOpt("--steps");
            if (s < 1) {
                throw new Main.UsageException("--steps must be at least 1, got " + s);
            }
            b.steps(s);
        }
        if (a.has("--guidance")) {
            b.guidanceScale(a.doubleOpt("--guidance"));
        }
        Path modelPath = a.has("--model") ? Path.of(a.get("--model", null)) : null;
        if (a.has("--seconds")) {
            double s = a.doubleOpt("--seconds");
            if (!(s > 0)) {
                throw new Main.UsageException("--seconds must be positive, got " + a.get("--seconds", ""));
            }
            if (!a.has("--continue")) {
                b.seconds(s);
            }
        } else if (modelPath == null && !a.has("--init-audio") && !a.has("--inpaint") && !a.has("--continue")) {
            b.seconds(BundledModel.DEFAULT_SECONDS);
        }
        audioIn(a, b);
        if (a.has("--count")) {
            b.waveformsPerPrompt(a.intOpt("--count"));
        }
        if (a.has("--sampler")) {
            try {
                b.sampler(SamplerKind.fromCliName(a.get("--sampler", "")));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
        }
        if (a.has("--eta")) {
            b.eta(a.doubleOpt("--eta").floatValue());
        }
        b.karras(a.has("--karras"));
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
        Outputs outputs = Outputs.plan(a.get("--output", a.get("-o", "out.wav")), a.get("--spectrogram", null),
                request.prompts().size() * request.waveformsPerPrompt(), a.has("--force"));
        // With the WAV on standard output, everything for the user goes to standard error.
        PrintStream say = outputs.toStdout() ? err : out;

        if (modelPath != null && !Files.exists(modelPath)) {
            throw new Main.UsageException("model not found: " + modelPath);
        }
        if (modelPath == null) {
            err.println("note: using the bundled " + BundledModel.NAME
                    + ": it produces noise, not music. See the README to convert a real checkpoint.");
        }
        boolean terminal = System.console() != null && System.console().isTerminal();
        long t0 = System.nanoTime();
        Progress progress = new Progress(err, terminal, t0);
        Euterpe.Options opts = Euterpe.Options.defaults().withDevice(device)
                .withFallback(a.has("--fallback"))
                .withLog(msg -> err.println("note: " + msg))
                .withResidency(a.has("--keep-weights") ? WeightResidency.KEEP : WeightResidency.DEFAULT);
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(modelPath, opts)) {
            progress.onStage("load", (System.nanoTime() - t0) / 1e9);
            err.println("device   " + pipe.model().backend().description());
            try {
                pipe.check(request);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            noteTruncation(prompt, pipe, err);
            String modelName = modelPath == null ? BundledModel.NAME : modelPath.toAbsolutePath().toString();
            if (a.has("--verbose")) {
                err.println("settings " + equivalentCommand(pipe.settings(request), modelPath, device, a));
            }
            GenerationResult r = pipe.generate(request, progress);
            long t1 = System.nanoTime();
            Map<String, String> info = new LinkedHashMap<>();
            info.put(WavWriter.TITLE, prompt);
            info.put(WavWriter.COMMENT, comment(r.settings(), modelName));
            info.put(WavWriter.SOFTWARE, "Euterpe");
            WavWriter.Format fmt = a.has("--float") ? WavWriter.Format.FLOAT32 : WavWriter.Format.PCM16;
            int count = r.waveforms().length;
            if (outputs.toStdout()) {
                WavWriter.body(r.waveforms()[0], r.sampleRate(), fmt, info).write(out);
                out.flush();
                err.println("wrote standard output (" + r.waveforms()[0].length + " samples at " + r.sampleRate()
                        + " Hz, seed " + seed + ")");
            } else {
                List<Path> targets = new ArrayList<>();
                List<AtomicFiles.Body> bodies = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    targets.add(outputs.wav(i));
                    bodies.add(WavWriter.body(r.waveforms()[i], r.sampleRate(), fmt, info));
                    if (outputs.spectrogram(i) != null) {
                        targets.add(outputs.spectrogram(i));
                        // At least ~512 px wide and ~256 px tall, whatever the clip length and mel-bin count.
                        int xScale = Math.max(1, 512 / r.melFrames());
                        int yScale = Math.max(1, 256 / r.melBins());
                        bodies.add(SpectrogramPng.body(r.mels()[i], r.melFrames(), r.melBins(), xScale, yScale));
                    }
                }
                int samples = r.waveforms()[0].length;
                AtomicFiles.writeAll(targets, bodies, p -> say.println("wrote " + p + (p.toString().endsWith(".png")
                        ? "" : " (" + samples + " samples at " + r.sampleRate() + " Hz, seed " + seed + ")")));
            }
            progress.onStage("write", (System.nanoTime() - t1) / 1e9);
            err.println("memory   peak resident " + ResidentMemory.format(ResidentMemory.peak()));
        }
        return 0;
    }

    /** --init-audio/--strength, --inpaint/--mask-start/--mask-end, --continue/--seconds: the source and its use. */
    private static void audioIn(Args a, GenerationRequest.Builder b) throws IOException {
        int sources = (a.has("--init-audio") ? 1 : 0) + (a.has("--inpaint") ? 1 : 0) + (a.has("--continue") ? 1 : 0);
        if (sources > 1) {
            throw new Main.UsageException("give one of --init-audio, --inpaint and --continue");
        }
        if (sources == 0) {
            for (String o : new String[] {"--strength", "--mask-start", "--mask-end"}) {
                if (a.has(o)) {
                    throw new Main.UsageException(o + " needs source audio (--init-audio, --inpaint)");
                }
            }
            return;
        }
        if (a.has("--init-audio")) {
            if (!a.has("--strength")) {
                throw new Main.UsageException("--init-audio needs --strength S, 0 < S <= 1");
            }
            b.sourceAudio(readAudio(a.get("--init-audio", null))).strength(a.doubleOpt("--strength"));
        } else if (a.has("--inpaint")) {
            if (!a.has("--mask-start") || !a.has("--mask-end")) {
                throw new Main.UsageException("--inpaint needs --mask-start and --mask-end (seconds)");
            }
            b.sourceAudio(readAudio(a.get("--inpaint", null))).mask(a.doubleOpt("--mask-start"),
                    a.doubleOpt("--mask-end"));
        } else {
            if (!a.has("--seconds")) {
                throw new Main.UsageException("--continue needs --seconds N, the length to add");
            }
            org.euterpe.pipeline.audio.WavReader.Audio src = readAudio(a.get("--continue", null));
            b.sourceAudio(src).mask(src.seconds(), src.seconds() + a.doubleOpt("--seconds"));
        }
        if (!a.has("--init-audio") && a.has("--strength")) {
            throw new Main.UsageException("--strength goes with --init-audio");
        }
    }

    /** Reads a WAV for audio in; a missing, unreadable or malformed file is a usage error naming it. */
    static org.euterpe.pipeline.audio.WavReader.Audio readAudio(String file) {
        try {
            return org.euterpe.pipeline.audio.WavReader.read(Path.of(file));
        } catch (org.euterpe.pipeline.audio.AudioFileException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    /** The WAV's comment: every setting of the run, then the model, as {@code key=value} pairs (JSON strings). */
    static String comment(Map<String, String> settings, String model) {
        StringBuilder b = new StringBuilder();
        Map<String, String> all = new LinkedHashMap<>(settings);
        all.put("model", model);
        all.put("software", "Euterpe");
        all.forEach((k, v) -> b.append(b.isEmpty() ? "" : " ").append(k).append('=').append(Json.write(v)));
        return b.toString();
    }

    /** The command that reruns this generation exactly (every default written out). */
    static String equivalentCommand(Map<String, String> s, Path model, String device, Args a) {
        List<String> c = new ArrayList<>(List.of("euterpe", "generate", "--prompt", s.get("prompt")));
        if (!s.get("negative_prompt").isEmpty()) {
            c.addAll(List.of("--negative", s.get("negative_prompt")));
        }
        c.addAll(List.of("--seed", s.get("seed"), "--steps", s.get("steps"), "--guidance", s.get("guidance"),
                "--sampler", s.get("sampler")));
        if (Boolean.parseBoolean(s.get("karras"))) {
            c.add("--karras");
        }
        if (Float.parseFloat(s.get("eta")) != 0) {
            c.addAll(List.of("--eta", s.get("eta")));
        }
        c.addAll(List.of("--noise", s.get("noise"), "--count", s.get("count")));
        if (a.has("--seconds") || model == null) {
            c.addAll(List.of("--seconds", a.get("--seconds", fmt(BundledModel.DEFAULT_SECONDS))));
        }
        if (model != null) {
            c.addAll(List.of("--model", model.toAbsolutePath().toString()));
        }
        c.addAll(List.of("--device", device));
        StringBuilder b = new StringBuilder();
        for (String w : c) {
            b.append(b.isEmpty() ? "" : " ").append(w.matches("[A-Za-z0-9_./:+=-]+") ? w : shellQuote(w));
        }
        return b.toString();
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** Says so when the text encoder will see only the start of the prompt (as in diffusers, which warns too). */
    private static void noteTruncation(String prompt, TextToAudioPipeline pipe, PrintStream err) {
        BpeTokenizer tok = pipe.model().tokenizer();
        int room = tok.modelMaxLength() - 2; // <s> and </s>
        int tokens = tok.tokenIds(prompt).length;
        if (tokens > room) {
            err.println("note: the prompt has " + tokens + " tokens; the text encoder reads only the first " + room
                    + ", the rest is ignored");
        }
    }
}
