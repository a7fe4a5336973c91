package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** A tensor's shape times its dtype size differs from its byte range (or overflows 64 bits). */
public final class ShapeSizeMismatchException extends SafetensorsException {
    public ShapeSizeMismatchException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
