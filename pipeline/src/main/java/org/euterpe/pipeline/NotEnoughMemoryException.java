package org.euterpe.pipeline;

/**
 * A generation was refused before it started: its estimated peak memory does not fit in the
 * Java heap. The message gives both figures and what to do instead (a length that fits, or the
 * heap the request needs).
 */
public final class NotEnoughMemoryException extends RuntimeException {
    private final transient ResourceEstimate estimate;

    public NotEnoughMemoryException(String message, ResourceEstimate estimate) {
        super(message);
        this.estimate = estimate;
    }

    /** The estimate that did not fit. */
    public ResourceEstimate estimate() {
        return estimate;
    }
}
