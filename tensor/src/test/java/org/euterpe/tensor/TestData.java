package org.euterpe.tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Assumptions;

/**
 * Finds test data for every module's tests (shared through the tensor test-jar).
 *
 * <ul>
 *   <li>The two tiny conformance cases are copied into the repository under
 *       {@code pipeline/src/test/conformance/}, so a clone without {@code ../shared} tests them.</li>
 *   <li>Everything else comes from {@code ../shared} beside the repository (or the folder named by
 *       {@code -Deuterpe.shared}); tests that need it are skipped with a visible reason when it is
 *       absent.</li>
 * </ul>
 */
public final class TestData {
    private TestData() {
    }

    /** The repository root: the nearest folder above the working directory with tensor/ and pom.xml. */
    public static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("tensor"))) {
                return p;
            }
            p = p.getParent();
        }
        throw new IllegalStateException("cannot find the repository root above " + Path.of("").toAbsolutePath());
    }

    /** The shared folder, if present. */
    public static Optional<Path> shared() {
        String prop = System.getProperty("euterpe.shared");
        Path p = prop != null ? Path.of(prop) : repoRoot().resolve("../shared");
        p = p.toAbsolutePath().normalize();
        return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }

    /** A path under the shared folder; the calling test is skipped, with the reason, when absent. */
    public static Path sharedOrSkip(String relative) {
        Optional<Path> s = shared();
        Assumptions.assumeTrue(s.isPresent(), "skipped: ../shared is not present beside the repository");
        Path p = s.get().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "skipped: " + p + " is not present");
        return p;
    }

    /**
     * A conformance case folder: the in-repo copy for the tiny cases, else the shared one
     * (skipping the test when absent).
     */
    public static Path conformanceCase(String name) {
        Path local = repoRoot().resolve("pipeline/src/test/conformance").resolve(name);
        if (Files.isDirectory(local)) {
            return local;
        }
        return sharedOrSkip("conformance/" + name);
    }
}
