package org.euterpe.kernels.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** Finds the CUDA toolkit for the tests that rebuild or check the kernels; skips them without one. */
final class Nvcc {
    private Nvcc() {
    }

    /** The kernels module directory (surefire's basedir). */
    static Path moduleDir() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    }

    static Path resources() {
        return moduleDir().resolve("src/main/resources/org/euterpe/kernels/cuda");
    }

    static Path sources() {
        return moduleDir().resolve("src/main/cuda");
    }

    /** The nvcc on PATH or at /usr/local/cuda/bin; the calling test is skipped, with the reason, when there is none. */
    static Path require() {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "nvcc"));
            }
        }
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String why = "nvcc not found on PATH or at /usr/local/cuda/bin/nvcc: the CUDA sources cannot be rebuilt here";
        System.out.println("SKIPPED " + why);
        Assumptions.abort(why);
        return null;
    }

    /** Runs a command, returning its output; fails with the output when it exits non-zero. */
    static String run(List<String> command, Path dir, String... env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        for (int i = 0; i < env.length; i += 2) {
            pb.environment().put(env[i], env[i + 1]);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }
}
