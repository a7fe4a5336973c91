package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** A tensor entry is not an object with a string {@code dtype}, a {@code shape} list of non-negative integers and a two-integer {@code data_offsets}. */
public final class MalformedEntryException extends SafetensorsException {
    public MalformedEntryException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
