package org.euterpe.pipeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a class of the test classpath in a fresh JVM (the same java), for what one JVM cannot test
 * on itself: signal handlers, shutdown hooks, missing modules, environment variables.
 */
public final class ChildJvm {
    /** What a child printed and how it ended. */
    public record Result(int exit, String out, String err) {
    }

    private final List<String> jvmFlags = new ArrayList<>();
    private final Map<String, String> env = new java.util.HashMap<>();
    private Path workDir;

    /** A child with the flags every engine JVM needs ({@code --add-modules jdk.incubator.vector}, native access). */
    public static ChildJvm engine() {
        ChildJvm c = new ChildJvm();
        c.jvmFlags.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        return c;
    }

    /** A child with no extra flags (no Vector API module). */
    public static ChildJvm bare() {
        return new ChildJvm();
    }

    public ChildJvm flag(String... flags) {
        jvmFlags.addAll(List.of(flags));
        return this;
    }

    public ChildJvm env(String name, String value) {
        env.put(name, value);
        return this;
    }

    public ChildJvm in(Path dir) {
        workDir = dir;
        return this;
    }

    /** The JDK's signal-chaining library beside this JVM, or null. */
    public static Path libjsig() {
        Path p = Path.of(System.getProperty("java.home"), "lib", "libjsig.so");
        return Files.isRegularFile(p) ? p : null;
    }

    /** Starts {@code mainClass} with {@code args}; output goes to files (read by {@link #finish}). */
    public Process start(Class<?> mainClass, Path outFile, Path errFile, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(outFile.toFile()).redirectError(errFile.toFile());
        pb.environment().putAll(env);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        return pb.start();
    }

    /** Runs {@code mainClass} to the end (at most {@code timeoutSeconds}). */
    public Result run(Class<?> mainClass, long timeoutSeconds, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("child", ".out");
        Path err = Files.createTempFile("child", ".err");
        try {
            Process p = start(mainClass, out, err, args);
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("child " + mainClass.getSimpleName() + " ran past " + timeoutSeconds
                        + " s; stderr: " + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
