package org.euterpe.pipeline.audio;

import java.io.IOException;

/**
 * An audio file that cannot be used: missing or unreadable, malformed, an unsupported codec, or no samples.
 * The message names the file (when there is one) and the problem.
 */
public final class AudioFileException extends IOException {
    public AudioFileException(String message) {
        super(message);
    }

    public AudioFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
