package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

import org.euterpe.pipeline.hub.HubSettings;
import org.euterpe.pipeline.hub.ModelResolver;

/** The {@code --model} option of every command: a path, or a hub repository pulled into the cache when missing. */
final class ModelArg {
    static final String HELP = String.join("\n",
            "  --model M            a model converted by `euterpe convert`, a diffusers folder (converted in",
            "                       memory at each load), or a Hugging Face repository ORG/NAME[@REVISION],",
            "                       taken from the cache or pulled into it (see `euterpe pull --help`);",
            "                       default: the bundled tiny model",
            "  --convert            with a repository: convert it once into a one-file model kept in the cache");

    private ModelArg() {
    }

    /**
     * The {@code --model} of a command line before it is parsed (the last one, as {@link Args} keeps the last
     * value), as a path, or null when there is none or it is no path; the family's verb is chosen by it.
     */
    static Path peek(String[] argv) {
        String value = null;
        for (int i = 0; i < argv.length && !argv[i].equals("--"); i++) {
            if (argv[i].equals("--model") && i + 1 < argv.length) {
                value = argv[++i];
            } else if (argv[i].startsWith("--model=")) {
                value = argv[i].substring("--model=".length());
            }
        }
        try {
            return value == null ? null : Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            return null; // the loader names it
        }
    }

    /**
     * {@code argv} with its {@code --model}, when that is a hub repository rather than a path, replaced by the path
     * it resolves to (from the cache, or pulled into it now; with {@code --convert}, the converted file), so that
     * the family's verb is chosen by the model's own {@code model_index.json}, as for a path. Other command lines
     * come back as they are.
     */
    static String[] resolveRepository(String[] argv, PrintStream err) throws IOException {
        int at = -1;
        boolean convert = false;
        for (int i = 0; i < argv.length && !argv[i].equals("--"); i++) {
            if (argv[i].equals("--model") && i + 1 < argv.length) {
                at = ++i;
            } else if (argv[i].startsWith("--model=")) {
                at = i;
            } else if (argv[i].equals("--convert")) {
                convert = true;
            }
        }
        if (at < 0) {
            return argv;
        }
        boolean inline = argv[at].startsWith("--model=");
        String spec = inline ? argv[at].substring("--model=".length()) : argv[at];
        Path asPath = peek(new String[] {"--model", spec});
        if (asPath != null && java.nio.file.Files.exists(asPath) || !org.euterpe.pipeline.hub.RepoId.looksLike(spec)) {
            return argv;
        }
        String[] out = argv.clone();
        String path = resolve(spec, convert, err).toString();
        out[at] = inline ? "--model=" + path : path;
        return out;
    }

    /** The path to load for {@code spec}. */
    static Path resolve(String spec, boolean convert, PrintStream err) throws IOException {
        boolean terminal = System.console() != null && System.console().isTerminal();
        try {
            return ModelResolver.resolve(spec, convert, HubSettings.fromEnvironment(), new DownloadProgress(err,
                    terminal), msg -> err.println("note: " + msg));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }
}
