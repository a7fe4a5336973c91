package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.euterpe.converter.Converter;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * {@code euterpe inspect FILE}: what a one-file model holds: format version, weight precision,
 * per component its parameter count, dtypes and config, and the files it was converted from.
 * Reads only the header.
 */
final class InspectCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe inspect FILE",
            "",
            "  FILE   a one-file model written by `euterpe convert`");

    /** Tensor statistics of one component. */
    private static final class Component {
        long parameters;
        int tensors;
        final Map<String, long[]> byDtype = new TreeMap<>(); // dtype -> {tensors, bytes}
    }

    private InspectCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(argv, Set.of(), Set.of("--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.positional().size() != 1) {
            throw new Main.UsageException("give one model file; see --help");
        }
        Path path = Path.of(a.positional().get(0));
        if (!Files.isRegularFile(path)) {
            throw new Main.UsageException(Files.isDirectory(path) ? path + " is a folder; inspect reads a converted"
                    + " file (make one with `euterpe convert`)" : Files.exists(path) ? path + " is not a regular file"
                    : "no such file: " + path);
        }
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            Map<String, String> meta = file.metadata();
            String version = meta.get(Converter.FORMAT_VERSION_KEY);
            if (version == null) {
                throw new Main.UsageException(path + " is a safetensors file but not a Euterpe model (no "
                        + Converter.FORMAT_VERSION_KEY + " in its metadata)");
            }
            out.println("file           " + path + " (" + ConvertCommand.size(Files.size(path)) + ")");
            out.println("format         version " + version);
            out.println("weights        " + meta.getOrDefault(Converter.WEIGHT_DTYPE_KEY, "?")
                    + (meta.containsKey(Converter.OVERRIDES_KEY) ? ", overrides " + meta.get(Converter.OVERRIDES_KEY)
                            : ""));
            if (meta.containsKey("model_index.json")) {
                Object index = Json.parseLenient(meta.get("model_index.json"));
                if (index instanceof Map<?, ?> m && m.get("_class_name") instanceof String cls) {
                    out.println("pipeline       " + cls);
                }
            }
            Map<String, Component> components = new TreeMap<>();
            for (String name : file.names()) {
                int dot = name.indexOf('.');
                Component c = components.computeIfAbsent(dot < 0 ? "" : name.substring(0, dot), k -> new Component());
                SafetensorsFile.Entry e = file.entry(name);
                long[] d = c.byDtype.computeIfAbsent(e.dtype().safetensorsName(), k -> new long[2]);
                d[0]++;
                d[1] += e.byteSize();
                if (!name.endsWith(Converter.SCALE_SUFFIX) /* quantisation data, not parameters */) {
                    c.parameters += e.shape().numel();
                    c.tensors++;
                }
            }
            out.println();
            components.forEach((name, c) -> {
                StringBuilder dtypes = new StringBuilder();
                c.byDtype.forEach((d, v) -> dtypes.append(dtypes.isEmpty() ? "" : ", ")
                        .append(String.format(Locale.ROOT, "%s %d (%s)", d, v[0], ConvertCommand.size(v[1]))));
                out.printf(Locale.ROOT, "%-14s %s parameters in %d tensors; %s%n", name,
                        ConvertCommand.count(c.parameters), c.tensors, dtypes);
            });
            for (Map.Entry<String, String> e : meta.entrySet()) {
                String key = e.getKey();
                if (key.endsWith("config.json") && !key.startsWith("tokenizer/")) {
                    out.println();
                    out.println(key + ":");
                    out.println(Json.writePretty(Json.parseLenient(e.getValue())));
                } else if (key.startsWith("tokenizer/")) {
                    out.println();
                    out.println(key + ": " + e.getValue().length() + " characters");
                }
            }
            if (meta.containsKey(Converter.SOURCES_KEY)) {
                out.println();
                out.println("converted from:");
                for (Object o : (Iterable<?>) Json.parse(meta.get(Converter.SOURCES_KEY))) {
                    Map<?, ?> s = (Map<?, ?>) o;
                    out.printf(Locale.ROOT, "  %-45s %10s  sha256 %s%s%n", s.get("path"),
                            ConvertCommand.size(((Number) s.get("bytes")).longValue()), s.get("sha256"),
                            s.containsKey("published") ? "  = published " + s.get("published") : "");
                }
            }
        }
        return 0;
    }
}
