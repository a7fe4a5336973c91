package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** A tensor's {@code data_offsets} are reversed or reach outside the data area. */
public class BadOffsetsException extends SafetensorsException {
    public BadOffsetsException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
