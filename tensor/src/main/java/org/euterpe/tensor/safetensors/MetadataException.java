package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** {@code __metadata__} is not a map of strings to strings. */
public final class MetadataException extends SafetensorsException {
    public MetadataException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
