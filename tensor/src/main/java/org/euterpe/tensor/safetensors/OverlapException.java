package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** Two tensors' byte ranges overlap. */
public final class OverlapException extends BadOffsetsException {
    public OverlapException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
