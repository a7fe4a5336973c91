package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** A dtype name that safetensors does not define. */
public final class UnknownDTypeException extends SafetensorsException {
    public UnknownDTypeException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
