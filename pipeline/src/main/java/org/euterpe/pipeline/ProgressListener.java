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

    /**
     * Part {@code done} (1-based) of {@code total} of a long stage finished: a tile of a tiled VAE
     * decode ("decode") or a chunk of a chunked vocode ("vocode"). Called only for clips long
     * enough to be tiled; short clips run each of those stages in one piece.
     */
    default void onStageProgress(String stage, int done, int total) {
    }

    /**
     * Before anything runs: what the generation is estimated to need (called once per
     * generation, after the request was checked against the memory available).
     */
    default void onEstimate(ResourceEstimate estimate) {
    }

    ProgressListener NONE = new ProgressListener() {
    };
}
