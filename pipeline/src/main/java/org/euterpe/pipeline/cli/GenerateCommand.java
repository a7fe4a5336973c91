package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.euterpe.pipeline.BundledModel;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.NotEnoughMemoryException;
import org.euterpe.pipeline.ResidentMemory;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.WeightResidency;
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
            "  --steps N            denoising steps, 1 to 1000 (model default: AudioLDM 10, MusicLDM 200)",
            "  --guidance G         classifier-free guidance scale; <= 1 disables it (default 2.5 / 2.0)",
            "  --seconds S          audio length (default: the model's sample size; the bundled model: "
                    + fmt(BundledModel.DEFAULT_SECONDS) + " s); a length whose estimated memory exceeds",
            "                       the Java heap is refused up front (see the README, Long clips)",
            "  --seed N             random seed (default: random, printed)",
            "  --count N            waveforms per prompt, 1 to 64 (written as out-1.wav, out-2.wav, ...)",
            "  --sampler NAME       ddim|pndm|lms|euler|euler-a|heun|dpm++2m|unipc (default: the model's)",
            "  --karras             Karras sigmas (" + SamplerKind.karrasNames() + " only)",
            "  --eta E              DDIM stochasticity in [0, 1] (ddim only; default 0)",
            ModelArg.HELP,
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
            "audio in (WAV or FLAC, any rate and channels; mixed to mono, resampled to the model's rate):",
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
        if (!GenerateOptions.precheck(argv).help()) {
            // a hub repository: its path (pulled now if need be, after the shared checks) picks the family too
            argv = ModelArg.resolveRepository(argv, err);
        }
        Path peek = ModelArg.peek(argv);
        if (peek != null && DanceCommands.isDance(peek)) {
            return DanceCommands.generate(argv, out, err);
        }
        if (peek != null && org.euterpe.pipeline.stableaudio.StableAudioPipeline.isStableAudio(peek)) {
            return StableAudioGenerateCommand.run(argv, out, err);
        }
        GenerateOptions o = GenerateOptions.generate(argv, "AudioLDM/MusicLDM", Set.of("--prompt", "--negative",
                "--guidance", "--seconds", "--seed", "--count", "--sampler", "--eta", "--noise", "--spectrogram",
                "--init-audio", "--strength", "--inpaint", "--mask-start", "--mask-end", "--continue"),
                Set.of("--karras", "--keep-weights", "--convert"));
        if (o.help()) {
            out.println(HELP);
            return 0;
        }
        Args a = o.args();
        String prompt = o.prompt();
        String device = o.device();
        GenerationRequest.Builder b = o.request(GenerationRequest.builder(prompt));
        if (a.has("--negative")) {
            b.negativePrompt(a.get("--negative", null));
        }
        Double guidance = o.guidance();
        if (guidance != null) {
            b.guidanceScale(guidance);
        }
        Path modelPath = a.has("--model") ? Path.of(a.get("--model", null)) : null;
        Double seconds = o.seconds();
        if (seconds != null) {
            if (!a.has("--continue")) {
                b.seconds(seconds);
            }
        } else if (modelPath == null && !a.has("--init-audio") && !a.has("--inpaint") && !a.has("--continue")) {
            b.seconds(BundledModel.DEFAULT_SECONDS);
        }
        audioIn(o, b);
        if (a.has("--sampler")) {
            b.sampler(GenerateOptions.usage(() -> SamplerKind.fromCliName(a.get("--sampler", ""))));
        }
        if (a.has("--eta")) {
            b.eta(a.doubleOpt("--eta").floatValue());
        }
        b.karras(a.has("--karras"));
        GenerationRequest request = GenerateOptions.usage(b::build);
        long seed = request.seed();
        Outputs outputs = o.outputs(request.prompts().size() * request.waveformsPerPrompt(), true);

        modelPath = o.model(err); // a path, or a hub repository (from the cache, or pulled into it now)
        if (modelPath == null) {
            err.println("note: using the bundled " + BundledModel.NAME
                    + ": it produces noise, not music. See the README to convert a real checkpoint.");
        }
        long t0 = System.nanoTime();
        Progress progress = GenerateOptions.progress(err, t0);
        Euterpe.Options opts = Euterpe.Options.defaults().withDevice(device)
                .withFallback(a.has("--fallback"))
                .withLog(msg -> err.println("note: " + msg))
                .withResidency(a.has("--keep-weights") ? WeightResidency.KEEP : WeightResidency.DEFAULT);
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(modelPath, opts)) {
            progress.onStage("load", (System.nanoTime() - t0) / 1e9);
            err.println("device   " + pipe.model().backend().description());
            GenerateOptions.usageCheck(() -> pipe.check(request));
            noteTruncation(prompt, pipe, err);
            String modelName = modelPath == null ? BundledModel.NAME : modelPath.toAbsolutePath().toString();
            if (o.verbose()) {
                err.println("settings " + equivalentCommand(pipe.settings(request), modelPath, device, a));
            }
            GenerationResult r;
            try {
                r = pipe.generate(request, progress);
            } catch (NotEnoughMemoryException e) {
                throw new Main.UsageException(e.getMessage()); // the request, not the model, is at fault: exit 2
            }
            long t1 = System.nanoTime();
            Map<String, String> info = new LinkedHashMap<>();
            info.put(WavWriter.TITLE, prompt);
            info.put(WavWriter.COMMENT, comment(r.settings(), modelName));
            info.put(WavWriter.SOFTWARE, "Euterpe");
            WavWriter.Format fmt = o.format();
            // A spectrogram at least ~512 px wide and ~256 px tall, whatever the clip length and mel-bin count.
            outputs.write(r.waveforms().length, i -> WavWriter.body(r.waveforms()[i], r.sampleRate(), fmt, info),
                    i -> SpectrogramPng.body(r.mels()[i], r.melFrames(), r.melBins(), Math.max(1, 512 / r.melFrames()),
                            Math.max(1, 256 / r.melBins())),
                    r.waveforms()[0].length + " samples at " + r.sampleRate() + " Hz, seed " + seed, out, err);
            progress.onStage("write", (System.nanoTime() - t1) / 1e9);
            err.println("memory   peak resident " + ResidentMemory.format(ResidentMemory.peak()));
        }
        return 0;
    }

    /** --init-audio/--strength, --inpaint/--mask-start/--mask-end, --continue/--seconds: the source and its use. */
    private static void audioIn(GenerateOptions o, GenerationRequest.Builder b) {
        o.atMostOne("--init-audio", "--inpaint", "--continue");
        Double strength = o.strength();
        o.requires("--inpaint", "--mask-start", "--mask-end");
        if (o.has("--init-audio")) {
            if (strength == null) {
                throw new Main.UsageException("--init-audio needs --strength S, 0 < S <= 1");
            }
            b.sourceAudio(o.audio("--init-audio")).strength(strength);
        } else if (o.has("--inpaint")) {
            if (!o.has("--mask-start") || !o.has("--mask-end")) {
                throw new Main.UsageException("--inpaint needs --mask-start and --mask-end (seconds)");
            }
            b.sourceAudio(o.audio("--inpaint")).mask(o.args().doubleOpt("--mask-start"),
                    o.args().doubleOpt("--mask-end"));
        } else if (o.has("--continue")) {
            Double seconds = o.seconds();
            if (seconds == null) {
                throw new Main.UsageException("--continue needs --seconds N, the length to add");
            }
            org.euterpe.pipeline.audio.WavReader.Audio src = o.audio("--continue");
            b.sourceAudio(src).mask(src.seconds(), src.seconds() + seconds);
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
