package org.euterpe.nn;

/** A model that cannot be built from its files: a missing or extra weight, a wrong shape, a bad config. */
public class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
