package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** The header is not valid UTF-8. */
public final class HeaderEncodingException extends SafetensorsException {
    public HeaderEncodingException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }
}
