package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** The 8-byte header length does not fit the file (too short, beyond the end, or over the size limit). */
public final class HeaderLengthException extends SafetensorsException {
    public HeaderLengthException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
