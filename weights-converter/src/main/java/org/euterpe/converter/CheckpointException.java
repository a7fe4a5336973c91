package org.euterpe.converter;

import java.nio.file.Path;

/** A checkpoint file that cannot be used, naming the file and the problem. */
public class CheckpointException extends RuntimeException {
    private final Path file;

    public CheckpointException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
