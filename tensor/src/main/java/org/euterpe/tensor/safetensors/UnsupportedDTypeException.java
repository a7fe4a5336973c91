package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** A real safetensors dtype (e.g. F64, U8, BOOL) that the engine has no {@link org.euterpe.tensor.DType} for. */
public final class UnsupportedDTypeException extends SafetensorsException {
    public UnsupportedDTypeException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
