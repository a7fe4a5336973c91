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
        add("interpolate", "audio between two prompts or two clips, one WAV per point (euterpe interpolate --help)",
                args -> InterpolateCommand.run(args, out, err));
        add("regenerate", "Dance Diffusion: new takes on a WAV at a noise level (euterpe regenerate --help)",
                args -> DanceCommands.regenerate(args, out, err));
        add("score", "rank audio files by CLAP similarity to a prompt (euterpe score --help)",
                args -> ScoreCommand.run(args, out, err));
        add("conformance", "replay a reference conformance case (euterpe conformance --help)",
                args -> ConformanceCommand.run(args, out, err));
        add("convert", "convert a diffusers folder into one .safetensors model (euterpe convert --help)",
                args -> ConvertCommand.run(args, out, err));
        add("inspect", "show what a converted model file holds (euterpe inspect --help)",
                args -> InspectCommand.run(args, out, err));
        add("bench", "time each stage and the whole clip, e.g. of a full-size model with random weights",
                args -> BenchCommand.run(args, out, err));
        add("pull", "download a model from the Hugging Face hub into its cache (euterpe pull --help)",
                args -> PullCommand.run(args, out, err));
        add("serve", "serve generation over HTTP: job queue, progress events (euterpe serve --help)",
                args -> ServeCommand.run(args, out, err));
        add("devices", "list the compute devices and backends this machine can use (euterpe devices --help)",
                this::devices);
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
        } catch (OutOfMemoryError e) {
            err.println("euterpe " + args[0] + ": out of memory (" + e.getMessage() + "): the JVM may use at most "
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MiB; ask for a shorter clip or fewer waveforms, or"
                    + " give Java more memory (EUTERPE_JAVA_OPTS=-Xmx...)");
            return 1;
        } catch (Exception | StackOverflowError | LinkageError e) {
            String m = e.getMessage();
            err.println("euterpe " + args[0] + ": " + (m == null || m.isBlank() ? e.getClass().getSimpleName() : m));
            if (Boolean.getBoolean("euterpe.debug")) {
                e.printStackTrace(err);
            }
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

    private int devices(String[] argv) {
        Args a = new Args(argv, java.util.Set.of(), java.util.Set.of("--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println("usage: euterpe devices");
            out.println();
            out.println("Lists each backend (cpu, opencl, cuda) with its device or the reason it cannot start, then");
            out.println("every OpenCL device; give one to generate as --device opencl:N or cuda:N.");
            return 0;
        }
        if (!a.positional().isEmpty()) {
            throw new UsageException("devices takes no arguments; see --help");
        }
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
