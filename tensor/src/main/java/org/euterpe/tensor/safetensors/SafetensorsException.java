package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/**
 * A safetensors file whose content cannot be used, naming the file, the tensor (if any) and the
 * problem. Each kind of problem has its own subclass, so callers and tests can tell them apart.
 * Problems reaching the file at all (missing, a directory, unreadable) are {@link java.io.IOException}s.
 */
public class SafetensorsException extends RuntimeException {
    private final Path file;
    private final String tensor;

    public SafetensorsException(Path file, String tensor, String problem) {
        this(file, tensor, problem, null);
    }

    public SafetensorsException(Path file, String tensor, String problem, Throwable cause) {
        super(file + (tensor == null ? "" : ": tensor \"" + tensor + "\"") + ": " + problem, cause);
        this.file = file;
        this.tensor = tensor;
    }

    public Path file() {
        return file;
    }

    /** The tensor concerned, or null for a file-level problem. */
    public String tensor() {
        return tensor;
    }
}
