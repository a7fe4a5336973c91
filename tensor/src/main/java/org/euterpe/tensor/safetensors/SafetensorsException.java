package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** A safetensors file that cannot be used, naming the file, the tensor (if any) and the problem. */
public class SafetensorsException extends RuntimeException {
    private final Path file;
    private final String tensor;

    public SafetensorsException(Path file, String tensor, String problem) {
        super(file + (tensor == null ? "" : ": tensor \"" + tensor + "\"") + ": " + problem);
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
