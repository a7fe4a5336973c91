package org.euterpe.pipeline;

/**
 * A loaded model of any family, behind the one request/result API that the CLI, the server and
 * embedders use. {@link Euterpe#load} picks the implementation from the model's
 * {@code model_index.json} {@code _class_name} (for a one-file model, the copy in its metadata):
 * <ul>
 *   <li>{@code AudioLDMPipeline}, {@code MusicLDMPipeline}: {@link TextToAudioPipeline}
 *       (text to mono audio through latents, a VAE and a vocoder);</li>
 *   <li>{@code DanceDiffusionPipeline}: {@link org.euterpe.pipeline.dance.DanceDiffusionPipeline}
 *       (unconditional stereo waveforms; it refuses prompts).</li>
 * </ul>
 * A new family implements this interface, maps its options from {@link GenerationRequest} (and
 * refuses by name those it does not support), reports steps through {@link ProgressListener}
 * (which may cancel), and returns a {@link GenerationResult}. Verbs a family has beyond
 * {@link #generate} (audio-in, interpolation) are methods of its own class.
 *
 * <p>One generation runs at a time per pipeline; close it to free its weights.
 */
public interface AudioPipeline extends AutoCloseable {

    /** The diffusers pipeline class this model is, e.g. {@code "DanceDiffusionPipeline"}. */
    String pipelineClass();

    /** The output sample rate in Hz. */
    int sampleRate();

    /** Channels per output frame: 1 for the text-to-audio families, 2 for Dance Diffusion. */
    int channels();

    /** Whether {@link GenerationRequest#prompts()} are used (text models) or refused (unconditional models). */
    boolean takesPrompts();

    /** The sampling steps used when a request names none. */
    int defaultSteps();

    /**
     * Generates audio for {@code request}.
     *
     * @throws IllegalArgumentException for options this family does not accept (named in the message)
     * @throws GenerationCancelledException when {@code listener} cancels
     */
    GenerationResult generate(GenerationRequest request, ProgressListener listener);

    @Override
    void close();
}
