package org.euterpe.pipeline;

import org.euterpe.kernels.cpu.CpuBackendBase;

/**
 * What a pipeline does with a component's memory-mapped weights once its stage of a generation is
 * done ({@link AudioModel#releaseWeights}).
 */
public enum WeightResidency {
    /**
     * Drop each component's mapped weights from the resident set after its stage (text encoder
     * after encoding, U-Net after denoising, VAE after decoding, vocoder after vocoding), so the
     * process's peak is that of its largest stage rather than of all four models; the CPU backends'
     * pooled activation arrays and kernel workspaces of the stage go to the GC as well. The pages stay in
     * the page cache; the next generation faults them back in (740 MB of U-Net weights in
     * 10-160 ms, against ~50 s for a 10 s clip on CPU).
     */
    RELEASE_AFTER_STAGE,
    /** Keep every weight page that was read resident until the model is closed. */
    KEEP;

    /** The default of {@link TextToAudioPipeline} and the CLI. */
    public static final WeightResidency DEFAULT = RELEASE_AFTER_STAGE;

    /**
     * Applies this residency once {@code component}'s stage is done: with
     * {@link #RELEASE_AFTER_STAGE}, its mapped weights leave the resident set and the CPU backends'
     * pooled activation arrays and kernel workspaces go to the GC (they are sized for this stage's
     * tensors, which the next stage does not reuse, and would otherwise make the heap hold two
     * stages' worth).
     */
    public void stageDone(AudioModel model, String component) {
        if (this == RELEASE_AFTER_STAGE) {
            model.releaseWeights(component);
            if (model.backend() instanceof CpuBackendBase) {
                CpuBackendBase.releaseIdleMemory();
            }
        }
    }
}
