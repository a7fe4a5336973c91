package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

/** {@link Parallel}'s loops: every index handled exactly once, at any thread count, failures rethrown. */
class ParallelTest {

    private static void atThreads(int n, Runnable r) {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(n);
            r.run();
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void forChunksRunsEachChunkOnce() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            atThreads(threads, () -> {
                for (int n : new int[] {0, 1, 2, 7, 64, 1000}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    Parallel.forChunks(n, hits::incrementAndGet);
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, hits.get(i), "chunk " + i + " of " + n + " at " + threads + " threads");
                    }
                }
            });
        }
    }

    @Test
    void forRangeCoversEachIndexOnce() {
        for (int threads : new int[] {1, 2, 3}) {
            atThreads(threads, () -> {
                for (int n : new int[] {0, 1, 5, 100, 10007}) {
                    for (int min : new int[] {1, 3, 50}) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(n);
                        Parallel.forRange(n, min, (from, to) -> {
                            for (int i = from; i < to; i++) {
                                hits.incrementAndGet(i);
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, hits.get(i), "index " + i + " of " + n + ", min " + min);
                        }
                    }
                }
            });
        }
    }

    @Test
    void aFailingChunkIsRethrown() {
        atThreads(2, () -> {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException got = assertThrows(IllegalStateException.class, () -> Parallel.forChunks(50, c -> {
                if (c == 17) {
                    throw boom;
                }
            }));
            assertSame(boom, got);
            // The pool still works afterwards.
            AtomicIntegerArray hits = new AtomicIntegerArray(10);
            Parallel.forChunks(10, hits::incrementAndGet);
            for (int i = 0; i < 10; i++) {
                assertEquals(1, hits.get(i));
            }
        });
    }
}
