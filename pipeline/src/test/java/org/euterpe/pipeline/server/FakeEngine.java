package org.euterpe.pipeline.server;

import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

import org.euterpe.pipeline.GenerationCancelledException;
import org.euterpe.pipeline.ProgressListener;

/**
 * An engine whose steps the test releases one by one ({@link #gate}), so queue, cancellation and
 * shutdown behaviour can be checked without timing races. Its "audio" is the seed, spread over 160 samples.
 */
final class FakeEngine implements Engine {
    /** Steps it may take; {@code Integer.MAX_VALUE / 2} permits: free running. */
    final Semaphore gate;
    final AtomicInteger generations = new AtomicInteger();
    volatile boolean closed;

    FakeEngine(Semaphore gate) {
        this.gate = gate;
    }

    @Override
    public Map<String, Object> describe() {
        return Map.of("id", "fake", "family", "audioldm", "sample_rate", 16000, "takes_prompts", true);
    }

    @Override
    public Output generate(JobSpec spec, ProgressListener listener) {
        generations.incrementAndGet();
        listener.onStageStart("denoise");
        int steps = spec.steps() != null ? spec.steps() : 3;
        for (int k = 1; k <= steps; k++) {
            try {
                gate.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GenerationCancelledException(k - 1, steps);
            }
            if (!listener.onStep(k, steps)) {
                throw new GenerationCancelledException(k, steps);
            }
        }
        if ("fail".equals(spec.prompt())) {
            throw new IllegalStateException("the latents contain NaN");
        }
        float[][] w = new float[spec.count()][160];
        for (float[] x : w) {
            java.util.Arrays.fill(x, (spec.seed() % 1000) / 1000f);
        }
        return new Output(w, 16000, spec.seed(), 1, Map.of("seed", Long.toString(spec.seed())));
    }

    @Override
    public void close() {
        closed = true;
    }
}
