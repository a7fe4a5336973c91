package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** A tensor name that the file does not hold. */
public final class NoSuchTensorException extends SafetensorsException {
    public NoSuchTensorException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
