package org.euterpe.pipeline;

/** A generation stopped because its {@link ProgressListener} asked to. */
public final class GenerationCancelledException extends RuntimeException {
    public GenerationCancelledException(int step, int total) {
        super("generation cancelled after step " + step + " of " + total);
    }
}
