package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.euterpe.kernels.Backends;
import org.euterpe.kernels.opencl.OpenClBackend;
import org.junit.jupiter.api.Test;

/**
 * The short version of the resource soak on the OpenCL backend: repeated generations with the bundled
 * model hold no growing device buffers, heap, files or threads, and closing the pipeline gives back every
 * device buffer its load took. Skipped, with the reason, where no OpenCL device opens.
 */
class OpenClReliabilityTest {
    static OpenClBackend openClOrSkip() {
        Backends.Probe p = Backends.probe("opencl");
        assumeTrue(p.available(), () -> "OpenCL unavailable: " + p.reason());
        return (OpenClBackend) p.backend();
    }

    @Test
    void repeatedGenerationsHoldNoGrowingResources() throws Exception {
        OpenClBackend cl = openClOrSkip();
        int buffersBeforeLoad = cl.liveBuffers();
        GenerationRequest r = PipelineReliabilityTest.request("rain on a tin roof", 7);
        try (TextToAudioPipeline pipe = new TextToAudioPipeline(AudioModel.load(BundledModel.folder(), cl))) {
            for (int i = 0; i < 2; i++) { // warm-up: kernel build or cache load, class loading, JIT
                pipe.generate(r, ProgressListener.NONE);
            }
            int buffers = cl.liveBuffers();
            ResourceProbe before = ResourceProbe.take();
            for (int i = 0; i < 5; i++) {
                pipe.generate(r, ProgressListener.NONE);
                assertEquals(buffers, cl.liveBuffers(), "device buffers after generation " + (i + 1));
            }
            ResourceProbe after = ResourceProbe.take();
            assertEquals(before.fds(), after.fds(), () -> "open files grew: " + before + " -> " + after);
            assertEquals(before.threads(), after.threads(), () -> "threads grew: " + before + " -> " + after);
            assertEquals(before.directBytes(), after.directBytes(), () -> "direct memory grew: " + before + " -> " + after);
            assertTrue(after.heapBytes() - before.heapBytes() < 4L << 20, () -> "heap grew: " + before + " -> " + after);
        }
        assertEquals(buffersBeforeLoad, cl.liveBuffers(), "device buffers left after the pipeline was closed");
    }
}
