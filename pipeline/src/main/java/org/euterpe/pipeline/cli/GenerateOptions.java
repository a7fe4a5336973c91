package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.audio.AudioFileException;
import org.euterpe.pipeline.audio.AudioReader;
import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;

/**
 * The options the generating verbs of every family share (AudioLDM/MusicLDM, Dance Diffusion, Stable Audio):
 * parsed, validated and refused here, once, so that an option means the same thing, takes the same values and
 * fails with the same message and exit code (2, a usage error) whichever family the model picks. Each family
 * names the options it takes; an option that another family of {@code generate} takes is refused as not
 * applying to this one, and anything else is an unknown option ({@link Args}).
 */
final class GenerateOptions {
    /** Every option that some family of {@code euterpe generate} takes (and a value). */
    static final Set<String> GENERATE_VALUES = Set.of("--prompt", "--negative", "--steps", "--guidance", "--seconds",
            "--seconds-start", "--seed", "--count", "--sampler", "--eta", "--model", "--device", "--noise", "-o",
            "--output", "--spectrogram", "--init-audio", "--strength", "--init-noise-level", "--noise-level",
            "--inpaint", "--mask-start", "--mask-end", "--continue");
    /** Every flag that some family of {@code euterpe generate} takes. */
    static final Set<String> GENERATE_FLAGS = Set.of("--karras", "--float", "--keep-weights", "--fallback", "--force",
            "--verbose", "--convert", "--help", "-h");

    /** Options every verb of every family takes (values). */
    static final Set<String> COMMON_VALUES = Set.of("--model", "--device", "--steps", "-o", "--output");
    /** Flags every verb of every family takes. */
    static final Set<String> COMMON_FLAGS = Set.of("--float", "--force", "--fallback", "--verbose", "--help", "-h");

    /** Most steps any sampler runs (as {@link GenerationRequest} allows). */
    static final int MAX_STEPS = 1000;
    /** Most waveforms one run writes (as {@link GenerationRequest} allows). */
    static final int MAX_COUNT = 64;

    private final Args args;

    private GenerateOptions(Args args) {
        this.args = args;
    }

    /**
     * {@code euterpe generate} for one family.
     *
     * @param family what the refusal of another family's option names, e.g. "Stable Audio"
     * @param values the options with a value this family takes, beyond {@link #COMMON_VALUES}
     * @param flags  the flags this family takes, beyond {@link #COMMON_FLAGS}
     */
    static GenerateOptions generate(String[] argv, String family, Set<String> values, Set<String> flags) {
        Args a = new Args(argv, GENERATE_VALUES, GENERATE_FLAGS);
        Set<String> takes = new HashSet<>(COMMON_VALUES);
        takes.addAll(COMMON_FLAGS);
        takes.addAll(values);
        takes.addAll(flags);
        for (String argument : argv) {
            if (argument.equals("--")) {
                break;
            }
            int eq = argument.indexOf('=');
            String name = eq > 0 ? argument.substring(0, eq) : argument;
            if (a.has(name) && !takes.contains(name)) {
                throw new Main.UsageException(name + " does not apply to " + family + "; see --help");
            }
        }
        return new GenerateOptions(a);
    }

    /**
     * The checks every family makes alike, before the family is known (so before a model is pulled): each option
     * is one that some family of {@code generate} takes, and steps, count, seconds, seed and device are in range.
     * What the family adds is checked by its own {@link #generate}.
     */
    static GenerateOptions precheck(String[] argv) {
        GenerateOptions o = new GenerateOptions(new Args(argv, GENERATE_VALUES, GENERATE_FLAGS));
        if (!o.help()) {
            o.steps(null);
            o.count();
            o.seconds();
            o.seed();
            o.device();
        }
        return o;
    }

    /** Another verb ({@code regenerate}, {@code interpolate}): its own options beyond the common ones. */
    static GenerateOptions verb(String[] argv, Set<String> values, Set<String> flags) {
        Set<String> v = new HashSet<>(COMMON_VALUES);
        v.addAll(values);
        Set<String> f = new HashSet<>(COMMON_FLAGS);
        f.addAll(flags);
        return new GenerateOptions(new Args(argv, v, f));
    }

    Args args() {
        return args;
    }

    boolean has(String name) {
        return args.has(name);
    }

    String get(String name) {
        return args.get(name, null);
    }

    boolean help() {
        return args.has("--help") || args.has("-h");
    }

    /** The one prompt, positional (in quotes, or after {@code --}) or {@code --prompt}. */
    String prompt() {
        int prompts = args.positional().size() + (args.has("--prompt") ? 1 : 0);
        if (prompts != 1) {
            throw new Main.UsageException("give exactly one prompt in quotes (got " + prompts
                    + "); a prompt starting with a dash goes after -- or in --prompt; see --help");
        }
        return args.has("--prompt") ? args.get("--prompt", null) : args.positional().get(0);
    }

    /** {@code --device}, its name checked (default auto); whether it starts is the loader's to say (exit 1). */
    String device() {
        return usage(() -> Backends.checkName(args.get("--device", "auto")));
    }

    /** {@code --seed}, or a random one in [0, 2^32) that the output lines print. */
    long seed() {
        return args.has("--seed") ? args.longOpt("--seed") : new java.security.SecureRandom().nextLong() & 0xFFFFFFFFL;
    }

    /**
     * The shared part of a {@link GenerationRequest}: {@code --seed}, {@code --steps} (when given; else the
     * model's default), {@code --count} and {@code --noise}.
     */
    GenerationRequest.Builder request(GenerationRequest.Builder b) {
        b.seed(seed());
        Integer steps = steps(null);
        if (steps != null) {
            b.steps(steps);
        }
        return b.waveformsPerPrompt(count()).noise(noise());
    }

    /** {@code --steps} in [1, {@value #MAX_STEPS}], or {@code dflt} (null: the model's default). */
    Integer steps(Integer dflt) {
        return bounded("--steps", 1, MAX_STEPS, dflt);
    }

    /** {@code --count} in [1, {@value #MAX_COUNT}] (default 1). */
    int count() {
        return bounded("--count", 1, MAX_COUNT, 1);
    }

    /** An integer option in [min, max], or {@code dflt} when it is absent. */
    Integer bounded(String name, int min, int max, Integer dflt) {
        if (!args.has(name)) {
            return dflt;
        }
        int v = args.intOpt(name);
        if (v < min || v > max) {
            throw new Main.UsageException(name + " must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    /** {@code --seconds}: a positive, finite number of seconds, or null when absent. */
    Double seconds() {
        if (!args.has("--seconds")) {
            return null;
        }
        double s = args.doubleOpt("--seconds");
        if (!(s > 0) || Double.isInfinite(s)) {
            throw new Main.UsageException("--seconds must be positive, got " + args.get("--seconds", ""));
        }
        return s;
    }

    /** {@code --guidance}: a finite number, or null when absent. */
    Double guidance() {
        if (!args.has("--guidance")) {
            return null;
        }
        double g = args.doubleOpt("--guidance");
        if (!Double.isFinite(g)) {
            throw new Main.UsageException("--guidance must be a finite number, got " + args.get("--guidance", ""));
        }
        return g;
    }

    /** {@code --noise euterpe|torch} (default euterpe). */
    GenerationRequest.NoiseMode noise() {
        String noise = args.get("--noise", "euterpe").toLowerCase(Locale.ROOT);
        return switch (noise) {
            case "euterpe" -> GenerationRequest.NoiseMode.EUTERPE;
            case "torch" -> GenerationRequest.NoiseMode.TORCH;
            default -> throw new Main.UsageException("--noise must be euterpe or torch, got " + noise);
        };
    }

    /** {@code --strength} in (0, 1], which goes with {@code --init-audio}; null when absent. */
    Double strength() {
        requires("--init-audio", "--strength");
        if (!args.has("--strength")) {
            return null;
        }
        double s = args.doubleOpt("--strength");
        if (!(s > 0 && s <= 1)) {
            throw new Main.UsageException("--strength must be in (0, 1], got " + args.get("--strength", ""));
        }
        return s;
    }

    /** Refuses each of {@code options} given without {@code source} (e.g. --strength without --init-audio). */
    void requires(String source, String... options) {
        if (args.has(source)) {
            return;
        }
        for (String o : options) {
            if (args.has(o)) {
                throw new Main.UsageException(o + " goes with " + source + " (it needs source audio)");
            }
        }
    }

    /** Refuses giving more than one of {@code options}. */
    void atMostOne(String... options) {
        List<String> given = java.util.Arrays.stream(options).filter(args::has).toList();
        if (given.size() > 1) {
            throw new Main.UsageException(options.length == 2 ? "give " + options[0] + " or " + options[1]
                    + ", not both" : "give one of " + String.join(", ", options) + " (got " + String.join(" and ",
                            given) + ")");
        }
    }

    /** The audio file named by {@code option} (WAV or FLAC); missing, unreadable or malformed: a usage error. */
    WavReader.Audio audio(String option) {
        return readAudio(args.get(option, null));
    }

    /** Reads a WAV or FLAC for audio in; a missing, unreadable or malformed file is a usage error naming it. */
    static WavReader.Audio readAudio(String file) {
        try {
            return AudioReader.read(Path.of(file));
        } catch (AudioFileException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    /** {@code -o/--output} (default out.wav; {@code --output} wins when both are given), checked with --force. */
    Outputs outputs(int count, boolean spectrogram) {
        return Outputs.plan(args.get("--output", args.get("-o", "out.wav")),
                spectrogram ? args.get("--spectrogram", null) : null, count, args.has("--force"));
    }

    /** {@code --float}: 32-bit float WAVs; else 16-bit PCM. */
    WavWriter.Format format() {
        return args.has("--float") ? WavWriter.Format.FLOAT32 : WavWriter.Format.PCM16;
    }

    boolean verbose() {
        return args.has("--verbose");
    }

    /**
     * {@code --model}: a path, or a hub repository from the cache (pulled into it when missing; with
     * {@code --convert} converted once), or null when not given.
     */
    Path model(PrintStream err) throws IOException {
        return args.has("--model") ? ModelArg.resolve(args.get("--model", null), args.has("--convert"), err) : null;
    }

    /** {@code check}'s value; an {@link IllegalArgumentException} from it (a request's own check) is a usage error. */
    static <T> T usage(java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    /** Runs {@code check}; an {@link IllegalArgumentException} from it is a usage error (exit 2). */
    static void usageCheck(Runnable check) {
        usage(() -> {
            check.run();
            return null;
        });
    }

    /** The progress display on {@code err} (redrawn in place on a terminal), its clock started at {@code t0}. */
    static Progress progress(PrintStream err, long t0) {
        boolean terminal = System.console() != null && System.console().isTerminal();
        return new Progress(err, terminal, t0);
    }
}
