package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Generation under stress with the bundled tiny model on the scalar backend (the reference): many
 * generations in one JVM hold no growing resources, concurrent callers get exactly what sequential
 * callers get, and a cancelled generation stops within a step and leaves the pipeline usable.
 */
class PipelineReliabilityTest {
    /** Small enough for seconds per test, large enough to run every stage (2 steps, CFG on). */
    static GenerationRequest request(String prompt, long seed) {
        return GenerationRequest.builder(prompt).seconds(0.064).steps(2).seed(seed).build();
    }

    static Euterpe.Options options() {
        return Euterpe.Options.defaults().withDevice(System.getProperty("euterpe.test.device", "cpu"));
    }

    private static TextToAudioPipeline pipe;

    @BeforeAll
    static void load() throws IOException {
        pipe = Euterpe.loadTextToAudio(null, options());
    }

    @AfterAll
    static void close() {
        pipe.close();
    }

    @Test
    void repeatedGenerationsHoldNoGrowingResources() {
        GenerationRequest r = request("rain on a tin roof", 7);
        for (int i = 0; i < 3; i++) { // warm-up: class loading, JIT, pools
            pipe.generate(r, ProgressListener.NONE);
        }
        ResourceProbe before = ResourceProbe.take();
        for (int i = 0; i < 15; i++) {
            pipe.generate(r, ProgressListener.NONE);
        }
        ResourceProbe after = ResourceProbe.take();
        assertEquals(before.fds(), after.fds(), () -> "open files grew: " + before + " -> " + after);
        assertEquals(before.threads(), after.threads(), () -> "threads grew: " + before + " -> " + after);
        assertEquals(before.weightMappings(), after.weightMappings(), () -> "mappings grew: " + before + " -> " + after);
        assertEquals(before.directBytes(), after.directBytes(), () -> "direct memory grew: " + before + " -> " + after);
        // A leak of even one result per generation (a waveform is ~4 KiB, the model's activations more) over 15
        // generations would pass 4 MiB; GC noise stays far below.
        assertTrue(after.heapBytes() - before.heapBytes() < 4L << 20, () -> "heap grew: " + before + " -> " + after);
    }

    @Test
    void theSameRequestGivesTheSameBitsEveryTime() {
        // From a cold start: interpreted, C1- and C2-compiled kernels must all compute the same floats.
        GenerationRequest r = request("determinism", 5);
        GenerationResult first = pipe.generate(r, ProgressListener.NONE);
        for (int i = 0; i < 8; i++) {
            assertBitIdentical(first, pipe.generate(r, ProgressListener.NONE), "run " + (i + 2));
        }
    }

    @Test
    void concurrentCallersOfOnePipelineGetTheSequentialResults() throws Exception {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            requests.add(request("prompt number " + i, 100 + i));
        }
        List<GenerationResult> sequential = new ArrayList<>();
        for (GenerationRequest r : requests) {
            sequential.add(pipe.generate(r, ProgressListener.NONE));
        }
        List<GenerationResult> parallel = inParallel(requests.stream()
                .<Callable<GenerationResult>>map(r -> () -> pipe.generate(r, ProgressListener.NONE)).toList());
        for (int i = 0; i < requests.size(); i++) {
            assertBitIdentical(sequential.get(i), parallel.get(i), "request " + i);
        }
    }

    @Test
    void generateIsSerialisedPerPipeline() throws Exception {
        // The documented guarantee: one generation at a time per pipeline, the others wait.
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        ProgressListener watch = new ProgressListener() {
            @Override
            public boolean onStep(int step, int total) {
                int now = inside.get();
                most.accumulateAndGet(now, Math::max);
                return true;
            }

            @Override
            public void onStage(String stage, double seconds) {
                if (stage.equals("encode")) {
                    inside.incrementAndGet();
                } else if (stage.equals("vocode")) {
                    inside.decrementAndGet();
                }
            }
        };
        List<Callable<GenerationResult>> jobs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            GenerationRequest r = request("serial " + i, i);
            jobs.add(() -> pipe.generate(r, watch));
        }
        inParallel(jobs);
        assertEquals(1, most.get(), "more than one generation was inside the same pipeline at once");
    }

    @Test
    void twoPipelinesInParallelGetTheSequentialResults() throws Exception {
        GenerationRequest a = request("first pipeline", 11);
        GenerationRequest b = request("second pipeline", 12);
        try (TextToAudioPipeline p1 = Euterpe.loadTextToAudio(null, options());
                TextToAudioPipeline p2 = Euterpe.loadTextToAudio(null, options())) {
            GenerationResult seqA = p1.generate(a, ProgressListener.NONE);
            GenerationResult seqB = p2.generate(b, ProgressListener.NONE);
            List<GenerationResult> par = inParallel(List.of(
                    () -> p1.generate(a, ProgressListener.NONE),
                    () -> p2.generate(b, ProgressListener.NONE)));
            assertBitIdentical(seqA, par.get(0), "pipeline 1");
            assertBitIdentical(seqB, par.get(1), "pipeline 2");
            // And the two loads are the same model: the same request gives the same audio.
            assertBitIdentical(seqA, p2.generate(a, ProgressListener.NONE), "pipeline 2 on request 1");
        }
    }

    @Test
    void cancellingStopsWithinOneStepAndLeavesThePipelineUsable() {
        GenerationRequest r = GenerationRequest.builder("cancel me").seconds(0.064).steps(5).seed(3).build();
        GenerationResult reference = pipe.generate(r, ProgressListener.NONE);
        ResourceProbe before = ResourceProbe.take();
        for (int cancelAt = 1; cancelAt <= 5; cancelAt++) {
            AtomicInteger stepsSeen = new AtomicInteger();
            List<String> stages = new ArrayList<>();
            int stopAt = cancelAt;
            ProgressListener cancel = new ProgressListener() {
                @Override
                public boolean onStep(int step, int total) {
                    stepsSeen.incrementAndGet();
                    return step < stopAt;
                }

                @Override
                public void onStage(String stage, double seconds) {
                    stages.add(stage);
                }
            };
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> pipe.generate(r, cancel));
            assertEquals(cancelAt, stepsSeen.get(), "no step runs after the one that cancelled");
            assertEquals(List.of("encode"), stages, "nothing after the denoising loop runs");
            assertTrue(e.getMessage().contains("after step " + cancelAt + " of 5"), e.getMessage());
        }
        // The pipeline still works and gives the same audio as before the cancellations.
        assertBitIdentical(reference, pipe.generate(r, ProgressListener.NONE), "after cancellations");
        ResourceProbe after = ResourceProbe.take();
        assertEquals(before.fds(), after.fds(), () -> before + " -> " + after);
        assertEquals(before.threads(), after.threads(), () -> before + " -> " + after);
        assertTrue(after.heapBytes() - before.heapBytes() < 4L << 20, () -> "heap grew: " + before + " -> " + after);
    }

    /** Runs the jobs on their own threads, released together, and returns their results in order. */
    static <T> List<T> inParallel(List<Callable<T>> jobs) throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(jobs.size());
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> job : jobs) {
                futures.add(ex.submit(() -> {
                    start.await();
                    return job.call();
                }));
            }
            start.countDown();
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            ex.shutdownNow();
        }
    }

    static void assertBitIdentical(GenerationResult expected, GenerationResult actual, String what) {
        assertEquals(expected.waveforms().length, actual.waveforms().length, what);
        for (int i = 0; i < expected.waveforms().length; i++) {
            assertArrayEquals(bits(expected.waveforms()[i]), bits(actual.waveforms()[i]), what + ": waveform " + i);
            assertArrayEquals(bits(expected.mels()[i]), bits(actual.mels()[i]), what + ": mel " + i);
        }
    }

    private static int[] bits(float[] x) {
        int[] b = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            b[i] = Float.floatToRawIntBits(x[i]);
        }
        return b;
    }
}
