package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

import org.euterpe.converter.Converter;
import org.euterpe.converter.Precision;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.audio.AtomicFiles;
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
            "                       or torch .bin, fp32 or fp16)",
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
        Args a = new Args(argv, Set.of("--dtype", "--keep-f32"), Set.of("--force", "--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.positional().size() != 2) {
            throw new Main.UsageException("give a source folder and an output file; see --help");
        }
        Path src = Path.of(a.positional().get(0));
        Path dst = Path.of(a.positional().get(1));
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
            try (var model = Euterpe.load(staged.file(), Euterpe.Options.defaults().withDevice("scalar"))) {
                // loading checks every config key and weight shape
            } catch (IOException | RuntimeException e) {
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
}
