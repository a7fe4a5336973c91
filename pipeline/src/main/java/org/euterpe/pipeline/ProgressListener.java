package org.euterpe.pipeline;

/**
 * Progress of a generation. Called on the generating thread; {@link #onStep} may cancel.
 */
public interface ProgressListener {
    /** A stage (load, encode, denoise, decode, vocode, write) starts. */
    default void onStageStart(String stage) {
    }

    /** A stage (load, encode, denoise, decode, vocode, write) finished after {@code seconds}. */
    default void onStage(String stage, double seconds) {
    }

    /**
     * Denoising step {@code step} (1-based) of {@code total} finished.
     *
     * @return false to cancel: the generation stops and throws {@link GenerationCancelledException}
     */
    default boolean onStep(int step, int total) {
        return true;
    }

    ProgressListener NONE = new ProgressListener() {
    };
}
