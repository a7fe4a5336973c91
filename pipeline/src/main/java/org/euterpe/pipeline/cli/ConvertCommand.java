package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

import org.euterpe.converter.Converter;
import org.euterpe.converter.DanceCheckpoint;
import org.euterpe.converter.Precision;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.audio.AtomicFiles;
import org.euterpe.pipeline.stableaudio.StableAudioPipeline;
import org.euterpe.tensor.DType;

/**
 * {@code euterpe convert SRC DST [--dtype T] [--keep-f32 COMPONENTS]}: a diffusers folder in, one
 * {@code .safetensors} file out, with what was read per component and which sources are known
 * published files.
 */
final class ConvertCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe convert SRC DST [options]",
            "",
            "  SRC                  a diffusers pipeline folder (model_index.json; weights as .safetensors",
            "                       or torch .bin, fp32 or fp16), a hub repository ORG/NAME[@REVISION]",
            "                       (pulled into the Hugging Face cache when missing; see `euterpe pull`),",
            "                       or a Harmonai Dance Diffusion .ckpt (its EMA weights; --sample-rate R",
            "                       --sample-size N unless it is one of the published files: gwf-440k,",
            "                       jmann-small-190k, jmann-large-580k, maestro-uncond-150k,",
            "                       unlocked-uncond-250k, honk-140k), or stable-audio-tools' Stable Audio",
            "                       checkpoint folder (model.safetensors or model.ckpt + model_config.json,",
            "                       as stabilityai/stable-audio-open-1.0 also ships) with --text-encoder",
            "  --text-encoder DIR   for a stable-audio-tools checkpoint: the T5 it names (t5-base; not in",
            "                       its model.safetensors): a Hugging Face T5 folder (config.json, weights,",
            "                       spiece.model or tokenizer.json) or a diffusers Stable Audio folder",
            "  DST                  the .safetensors file to write (atomically; never inside SRC)",
            "  --dtype T            f32|f16|bf16|int8: precision of the weight matrices and kernels (norms,",
            "                       biases and embeddings stay f32). Default: as stored. bf16 keeps the",
            "                       VAE in f16, whose decoder loses too much with bf16's 8-bit mantissa",
            "  --keep-f32 NAMES     comma-separated components to keep f32 whatever --dtype says",
            "  --force              replace DST if it exists (only a regular file is ever replaced)",
            "",
            "The result is loaded as `generate` would load it before it takes DST's name: a model the",
            "engine would refuse (unknown config key, wrong shape, NaN weights) is refused now.");

    private ConvertCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(argv, Set.of("--dtype", "--keep-f32", "--sample-rate", "--sample-size", "--text-encoder"),
                Set.of("--force", "--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.positional().size() != 2) {
            throw new Main.UsageException("give a source folder and an output file; see --help");
        }
        String given = a.positional().get(0);
        // A hub repository id that names no local folder: its cached snapshot (pulled when missing).
        Path src = !Files.exists(Path.of(given)) && org.euterpe.pipeline.hub.RepoId.looksLike(given)
                ? ModelArg.resolve(given, false, err) : Path.of(given);
        Path dst = Path.of(a.positional().get(1));
        if (Files.isRegularFile(src) && src.getFileName().toString().endsWith(".ckpt")) {
            return fromCkpt(a, src, argv, out, err);
        }
        if (org.euterpe.converter.StableAudioToolsCheckpoint.isCheckpointFolder(src)) {
            return fromStableAudioTools(a, src, argv, out, err);
        }
        if (a.has("--text-encoder")) {
            throw new Main.UsageException("--text-encoder goes with a stable-audio-tools checkpoint folder"
                    + " (model_config.json + model.safetensors)");
        }
        if (a.has("--sample-rate") || a.has("--sample-size")) {
            throw new Main.UsageException("--sample-rate and --sample-size go with a Harmonai .ckpt source");
        }
        if (!Files.isDirectory(src)) {
            throw new Main.UsageException(Files.exists(src) ? src + " is not a folder (convert takes a diffusers"
                    + " pipeline folder)" : "no such folder: " + src);
        }
        Outputs.plan(dst.toString(), null, 1, a.has("--force"));
        java.util.List<String> components = componentNames(src);
        Precision precision = Precision.AS_STORED;
        try {
            if (a.has("--dtype")) {
                precision = Precision.recommended(Precision.parseDType(a.get("--dtype", null)));
            }
            if (a.has("--keep-f32")) {
                for (String c : a.get("--keep-f32", "").split(",")) {
                    if (c.isBlank()) {
                        continue;
                    }
                    if (!components.contains(c.trim())) {
                        throw new IllegalArgumentException("--keep-f32: " + src + " has no component \"" + c.trim()
                                + "\" (it has " + String.join(", ", components) + ")");
                    }
                    precision = precision.with(c.trim(), DType.F32);
                }
            }
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        long t0 = System.nanoTime();
        Converter.Report[] converted = new Converter.Report[1];
        Precision chosen = precision;
        // Written beside DST and loaded as generate would load it before it takes DST's name, so a model
        // that generate would refuse (an unknown config key, a wrong shape) is refused now.
        AtomicFiles.Staged staged;
        try {
            staged = AtomicFiles.stageFile(dst, tmp -> converted[0] = Converter.convert(src, tmp, chosen));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        try {
            try (AutoCloseable model = StableAudioPipeline.isStableAudio(staged.file())
                    ? StableAudioPipeline.load(staged.file(), org.euterpe.kernels.Backends.scalar())
                    : Euterpe.load(staged.file(), Euterpe.Options.defaults().withDevice("scalar"))) {
                // loading checks every config key and weight shape
            } catch (Exception e) {
                throw new IOException(src + " converts, but the engine cannot load it: " + e.getMessage(), e);
            }
            staged.commit();
        } finally {
            staged.discard();
        }
        Converter.Report report = converted[0];
        double seconds = (System.nanoTime() - t0) / 1e9;
        out.println("read " + src + ", weights " + precision.describe());
        for (Converter.ComponentReport c : report.components()) {
            out.printf(Locale.ROOT, "  %-13s %s (%s, %s): %d tensors, %s parameters, %s -> %s %s%n", c.component(),
                    c.weightsFile(), c.format(), String.join("/", c.sourceDtypes()), c.tensors(),
                    count(c.parameters()), size(c.sourceBytes()), String.join("/", c.storedDtypes()),
                    size(c.storedBytes()));
        }
        for (Converter.SourceFile s : report.sources()) {
            s.published().ifPresent(p -> out.println("  " + s.path() + " matches " + p.describe()));
        }
        long unknown = report.sources().stream().filter(s -> s.published().isEmpty()
                && !s.path().endsWith(".json") && !s.path().endsWith(".txt")).count();
        if (unknown > 0) {
            out.println("  " + unknown + " weights file(s) are not known published files (fine for your own models)");
        }
        out.printf(Locale.ROOT, "wrote %s: %d tensors, %s in %.1f s%n", dst, report.tensors(), size(Files.size(dst)),
                seconds);
        return 0;
    }

    /** The component names of a diffusers folder's model_index.json (its keys not starting with "_"). */
    private static java.util.List<String> componentNames(Path src) throws IOException {
        Path index = src.resolve("model_index.json");
        if (!Files.isRegularFile(index)) {
            throw new Main.UsageException(src + " is not a diffusers pipeline folder (no model_index.json)");
        }
        Object parsed = org.euterpe.tensor.json.Json.parse(Files.readString(index), index.toString());
        if (!(parsed instanceof java.util.Map<?, ?> m)) {
            throw new Main.UsageException(index + " is not a JSON object");
        }
        return m.keySet().stream().map(Object::toString).filter(k -> !k.startsWith("_")).toList();
    }

    /** e.g. "1.23 M". */
    static String count(long n) {
        return n >= 1_000_000_000 ? String.format(Locale.ROOT, "%.2f G", n / 1e9)
                : n >= 1_000_000 ? String.format(Locale.ROOT, "%.2f M", n / 1e6)
                : n >= 1_000 ? String.format(Locale.ROOT, "%.1f k", n / 1e3) : Long.toString(n);
    }

    /** e.g. "12.3 MiB". */
    static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30))
                : bytes >= 1L << 20 ? String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20))
                : bytes >= 1L << 10 ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0) : bytes + " B";
    }

    /**
     * A stable-audio-tools checkpoint folder: written as a diffusers folder in a temporary directory
     * ({@link org.euterpe.converter.StableAudioToolsCheckpoint}, T5 from --text-encoder), then converted.
     */
    private static int fromStableAudioTools(Args a, Path src, String[] argv, PrintStream out, PrintStream err)
            throws Exception {
        Path tmp = Files.createTempDirectory("euterpe-sat-");
        try {
            Path t5 = a.has("--text-encoder") ? Path.of(a.get("--text-encoder", null)) : null;
            try {
                org.euterpe.converter.StableAudioToolsCheckpoint.toDiffusersFolder(src, t5, tmp);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            out.println("read " + src + " (stable-audio-tools checkpoint; T5 from " + t5 + ")");
            java.util.List<String> rest = new java.util.ArrayList<>();
            for (int i = 0; i < argv.length; i++) {
                if (argv[i].equals("--text-encoder")) {
                    i++;
                } else if (argv[i].equals(a.positional().get(0))) {
                    rest.add(tmp.toString());
                } else {
                    rest.add(argv[i]);
                }
            }
            return run(rest.toArray(String[]::new), out, err);
        } finally {
            try (var files = Files.walk(tmp)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * A Harmonai Dance Diffusion {@code .ckpt}: written as a diffusers folder in a temporary directory
     * ({@link DanceCheckpoint}), which is then converted as any folder is.
     */
    private static int fromCkpt(Args a, Path ckpt, String[] argv, PrintStream out, PrintStream err)
            throws Exception {
        Path tmp = Files.createTempDirectory("euterpe-ckpt-");
        try {
            int rate = a.has("--sample-rate") ? a.intOpt("--sample-rate") : 0;
            int size = a.has("--sample-size") ? a.intOpt("--sample-size") : 0;
            if (rate < 0 || size < 0) {
                throw new Main.UsageException("--sample-rate and --sample-size must be positive");
            }
            try {
                DanceCheckpoint.toDiffusersFolder(ckpt, tmp, rate, size);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage() + " (--sample-rate R --sample-size N)");
            }
            out.println("read " + ckpt + " (Harmonai Dance Diffusion checkpoint, EMA weights)");
            java.util.List<String> rest = new java.util.ArrayList<>();
            for (int i = 0; i < argv.length; i++) {
                if (argv[i].equals("--sample-rate") || argv[i].equals("--sample-size")) {
                    i++;
                } else if (argv[i].equals(ckpt.toString())) {
                    rest.add(tmp.toString());
                } else {
                    rest.add(argv[i]);
                }
            }
            return run(rest.toArray(String[]::new), out, err);
        } finally {
            try (var files = Files.walk(tmp)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
