package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
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

/** {@code euterpe generate "PROMPT" [options]}: a prompt in, a WAV (and optionally a PNG) out. */
final class GenerateCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe generate \"PROMPT\" [options]",
            "",
            "  --negative TEXT      negative prompt",
            "  --steps N            denoising steps (model default: AudioLDM 10, MusicLDM 200)",
            "  --guidance G         classifier-free guidance scale; <= 1 disables it (default 2.5 / 2.0)",
            "  --seconds S          audio length (default: the model's sample size); a length whose estimated",
            "                       memory exceeds the Java heap is refused up front (see the README, Long clips)",
            "  --seed N             random seed (default: random, printed)",
            "  --count N            waveforms per prompt (written as out-1.wav, out-2.wav, ...)",
            "  --sampler NAME       ddim|pndm|lms|euler|euler-a|heun|dpm++2m|unipc (default: the model's)",
            "  --karras             Karras sigmas (lms, euler, heun, dpm++2m, unipc)",
            "  --eta E              DDIM stochasticity in [0, 1] (default 0)",
            "  --model PATH         a model converted by `euterpe convert`, or a diffusers folder (converted",
            "                       in memory at each load); default: the bundled tiny model",
            "  --device D           auto|cpu|scalar|opencl[:N]|cuda[:N] (default auto)",
            "  --keep-weights       keep every stage's weights resident (default: each stage's mapped",
            "                       weights leave the resident set once it is done; see the README)",
            "  --noise MODE         euterpe|torch: torch reproduces torch.randn seed for seed",
            "  -o, --output FILE    output WAV (default out.wav)",
            "  --float              32-bit float WAV instead of 16-bit PCM",
            "  --spectrogram FILE   also write the mel spectrogram as a PNG");

    private GenerateCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = new Args(argv, Set.of("--negative", "--steps", "--guidance", "--seconds", "--seed", "--count",
                "--sampler", "--eta", "--model", "--device", "--noise", "-o", "--output", "--spectrogram"),
                Set.of("--karras", "--float", "--keep-weights", "--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.positional().size() != 1) {
            throw new Main.UsageException("give exactly one prompt in quotes (got " + a.positional().size()
                    + " arguments); see --help");
        }
        String prompt = a.positional().get(0);
        Path output = Path.of(a.get("--output", a.get("-o", "out.wav")));
        Path spectrogram = a.has("--spectrogram") ? Path.of(a.get("--spectrogram", null)) : null;
        checkWritable(output);
        if (spectrogram != null) {
            checkWritable(spectrogram);
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

        Path modelPath = a.has("--model") ? Path.of(a.get("--model", null)) : null;
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
        Euterpe.Options opts = Euterpe.Options.defaults().withDevice(a.get("--device", "auto"))
                .withLog(msg -> err.println("note: " + msg))
                .withResidency(a.has("--keep-weights") ? WeightResidency.KEEP : WeightResidency.DEFAULT);
        try (TextToAudioPipeline pipe = Euterpe.load(modelPath, opts)) {
            progress.onStage("load", (System.nanoTime() - t0) / 1e9);
            err.println("device   " + pipe.model().backend().description());
            noteTruncation(prompt, pipe, err);
            GenerationResult r;
            try {
                r = pipe.generate(request, progress);
            } catch (NotEnoughMemoryException e) {
                throw new Main.UsageException(e.getMessage()); // the request, not the model, is at fault: exit 2
            }
            long t1 = System.nanoTime();
            String modelName = modelPath == null ? BundledModel.NAME : modelPath.toAbsolutePath().toString();
            Map<String, String> info = new LinkedHashMap<>();
            info.put(WavWriter.TITLE, prompt);
            info.put(WavWriter.COMMENT, String.format(Locale.ROOT, "seed=%d steps=%s sampler=%s guidance=%s model=%s",
                    seed, request.steps() != null ? request.steps() : pipe.model().family().defaultSteps(),
                    request.sampler() != null ? request.sampler().cliName() : "model default",
                    request.guidanceScale() != null ? request.guidanceScale() : pipe.model().family().defaultGuidance(),
                    modelName));
            info.put(WavWriter.SOFTWARE, "Euterpe");
            WavWriter.Format fmt = a.has("--float") ? WavWriter.Format.FLOAT32 : WavWriter.Format.PCM16;
            int count = r.waveforms().length;
            for (int i = 0; i < count; i++) {
                Path wav = count == 1 ? output : numbered(output, i + 1);
                WavWriter.write(wav, r.waveforms()[i], r.sampleRate(), fmt, info);
                out.println("wrote " + wav + " (" + r.waveforms()[i].length + " samples at " + r.sampleRate()
                        + " Hz, seed " + seed + ")");
                if (spectrogram != null) {
                    Path png = count == 1 ? spectrogram : numbered(spectrogram, i + 1);
                    // At least ~512 px wide and ~256 px tall, whatever the clip length and mel-bin count.
                    int xScale = Math.max(1, 512 / r.melFrames());
                    int yScale = Math.max(1, 256 / r.melBins());
                    SpectrogramPng.write(png, r.mels()[i], r.melFrames(), r.melBins(), xScale, yScale);
                    out.println("wrote " + png);
                }
            }
            progress.onStage("write", (System.nanoTime() - t1) / 1e9);
            err.println("memory   peak resident " + ResidentMemory.format(ResidentMemory.peak()));
        }
        return 0;
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

    /** out.wav -> out-2.wav */
    static Path numbered(Path p, int n) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String numbered = dot > 0 ? name.substring(0, dot) + "-" + n + name.substring(dot) : name + "-" + n;
        return p.resolveSibling(numbered);
    }

    /** Fails before any work when the output cannot be written. */
    private static void checkWritable(Path p) {
        Path dir = p.toAbsolutePath().getParent();
        if (Files.isDirectory(p)) {
            throw new Main.UsageException("output " + p + " is a folder");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new Main.UsageException("output folder " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new Main.UsageException("output folder " + dir + " is not writable");
        }
    }
}
