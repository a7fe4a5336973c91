package org.euterpe.pipeline.server;

import java.util.Map;

import org.euterpe.pipeline.ProgressListener;

/**
 * What the server needs of a loaded model: one generation at a time, cancellable between steps.
 * The one place the server meets the pipeline API is {@link PipelineEngine}, so changes there
 * (request fields, model families) touch one class.
 */
public interface Engine extends AutoCloseable {
    /**
     * The generated waveforms (at {@code sampleRate}; with several channels, frames interleaved), the seed used,
     * and every resolved setting (steps, sampler, guidance, ...) as the WAV comment records them.
     */
    record Output(float[][] waveforms, int sampleRate, long seed, int channels, Map<String, String> settings) {
    }

    /**
     * What {@code GET /v1/models} says about the model (id, family, sample rate, channels, defaults);
     * {@code takes_prompts} false for unconditional models, which refuse a prompt.
     */
    Map<String, Object> describe();

    /**
     * Generates; {@link ProgressListener#onStep} returning false stops it with
     * {@link org.euterpe.pipeline.GenerationCancelledException}.
     */
    Output generate(JobSpec spec, ProgressListener listener);

    @Override
    void close();
}
