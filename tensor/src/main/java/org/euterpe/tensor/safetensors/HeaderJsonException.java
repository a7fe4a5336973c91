package org.euterpe.tensor.safetensors;

import java.nio.file.Path;

/** The header is not a valid JSON object (syntax error, duplicate key, or another top-level value). */
public final class HeaderJsonException extends SafetensorsException {
    public HeaderJsonException(Path file, String tensor, String problem) {
        super(file, tensor, problem);
    }

    public HeaderJsonException(Path file, String problem, Throwable cause) {
        super(file, null, problem, cause);
    }
}
