package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.euterpe.kernels.Backends;

/**
 * The {@code euterpe} command line: {@code euterpe <command> [options]}. Each command is one
 * method; errors print one line naming the problem and exit non-zero.
 */
public final class Main {
    /** A command: takes its arguments, returns the process exit code. */
    @FunctionalInterface
    interface Command {
        int run(String[] args) throws Exception;
    }

    /** Bad input from the user: printed as one line, exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, Command> commands = new LinkedHashMap<>();
    private final Map<String, String> summaries = new LinkedHashMap<>();

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
        add("generate", "generate audio from a prompt (euterpe generate --help)",
                args -> GenerateCommand.run(args, out, err));
        add("conformance", "replay a reference conformance case (euterpe conformance --help)",
                args -> ConformanceCommand.run(args, out, err));
        add("convert", "convert a diffusers folder into one .safetensors model (euterpe convert --help)",
                args -> ConvertCommand.run(args, out, err));
        add("inspect", "show what a converted model file holds (euterpe inspect --help)",
                args -> InspectCommand.run(args, out, err));
        add("bench", "time each stage and the whole clip, e.g. of a full-size model with random weights",
                args -> BenchCommand.run(args, out, err));
        add("devices", "list the compute devices and backends this machine can use", this::devices);
        add("help", "show this help", args -> {
            usage(out);
            return 0;
        });
    }

    private void add(String name, String summary, Command c) {
        commands.put(name, c);
        summaries.put(name, summary);
    }

    public static void main(String[] args) {
        System.exit(new Main(System.out, System.err).run(args));
    }

    int run(String[] args) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage(args.length == 0 ? err : out);
            return args.length == 0 ? 2 : 0;
        }
        Command c = commands.get(args[0]);
        if (c == null) {
            err.println("euterpe: unknown command \"" + args[0] + "\" (try: euterpe --help)");
            return 2;
        }
        try {
            return c.run(Arrays.copyOfRange(args, 1, args.length));
        } catch (UsageException e) {
            err.println("euterpe " + args[0] + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("euterpe " + args[0] + ": " + e.getMessage());
            if (Boolean.getBoolean("euterpe.debug")) {
                e.printStackTrace(err);
            }
            return 1;
        } catch (OutOfMemoryError e) {
            // An Error, so the catch above misses it; one line, not a JVM trace.
            err.println("euterpe " + args[0] + ": out of memory (Java heap "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB): use a shorter --seconds or fewer"
                    + " --count, or a larger heap, e.g. EUTERPE_JAVA_OPTS=-Xmx16g");
            return 1;
        }
    }

    private void usage(PrintStream s) {
        s.println("usage: euterpe <command> [options]");
        s.println();
        s.println("commands:");
        summaries.forEach((k, v) -> s.printf("  %-12s %s%n", k, v));
        s.printf("  %-12s %s%n", "test", "run the whole test suite (handled by the ./euterpe launcher)");
    }

    private int devices(String[] args) {
        for (Backends.Probe p : Backends.all()) {
            if (p.available()) {
                out.printf("%-8s available: %s%n", p.device(), p.backend().description());
            } else {
                out.printf("%-8s unavailable: %s%n", p.device(), p.reason());
            }
        }
        out.println("OpenCL devices:");
        Backends.openClDevices().forEach(line -> out.println("  " + line));
        return 0;
    }
}
