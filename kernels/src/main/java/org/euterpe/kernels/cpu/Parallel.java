package org.euterpe.kernels.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The CPU kernels' worker threads: a fixed pool of daemon threads, one per core by default
 * ({@code -Deuterpe.threads=N} or {@link #setThreads}). Work is split into chunks, several per
 * thread, that the threads claim as they go (dynamic scheduling), so one slow or descheduled
 * thread does not keep the others idle at the end of a loop. Chunks are contiguous index ranges
 * or output blocks, so neighbouring outputs stay on one core (no false sharing), and each output
 * is computed the same way whichever thread runs its chunk (results are bit-identical from run
 * to run).
 */
public final class Parallel {
    private static volatile int threads = Integer.getInteger("euterpe.threads",
            Runtime.getRuntime().availableProcessors());
    private static volatile ExecutorService pool;
    /** Chunks per thread that parallel loops aim for ({@code -Deuterpe.chunksPerThread=N}). */
    static final int CHUNKS_PER_THREAD = Math.max(1, Integer.getInteger("euterpe.chunksPerThread", 4));

    private Parallel() {
    }

    /** The body of a parallel loop: handles indices {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** The body of a dynamically scheduled loop: handles chunk {@code index}. */
    @FunctionalInterface
    public interface Chunk {
        void run(int index);
    }

    public static int threads() {
        return threads;
    }

    /** Sets the worker count for later loops (e.g. for benchmarks at a fixed thread count). */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        if (n != threads) {
            threads = n;
            ExecutorService old = pool;
            pool = null;
            if (old != null) {
                old.shutdown();
            }
        }
    }

    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    AtomicInteger id = new AtomicInteger();
                    ThreadFactory tf = r -> {
                        Thread t = new Thread(r, "euterpe-cpu-" + id.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    };
                    p = Executors.newFixedThreadPool(threads, tf);
                    pool = p;
                }
            }
        }
        return p;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into contiguous ranges of at least
     * {@code minPerTask} indices, about {@link #CHUNKS_PER_THREAD} per thread, scheduled as
     * {@link #forChunks} does. Returns when all are done; the first exception thrown by a range
     * is rethrown.
     *
     * @param minPerTask do not split below this many indices per range (small work stays serial)
     */
    public static void forRange(int n, int minPerTask, Range body) {
        int chunks = Math.min(chunkTarget(), Math.max(1, n / Math.max(1, minPerTask)));
        if (chunks <= 1 || isWorker()) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        forChunks(chunks, c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
    }

    /**
     * Runs {@code body} once for each chunk index in {@code [0, n)}; the calling thread and up to
     * {@link #threads()} - 1 workers claim indices in increasing order until none is left, so a
     * thread that is slow (descheduled, or given a heavier chunk) is covered by the others
     * instead of holding everyone at the end. Which thread runs which chunk varies from call to
     * call: each chunk must write its own outputs, in an order that does not depend on the other
     * chunks. Returns when every chunk is done; the first exception thrown is rethrown (chunks
     * not yet started are then skipped).
     */
    public static void forChunks(int n, Chunk body) {
        int helpers = Math.min(threads, n) - 1;
        if (helpers <= 0 || isWorker()) {
            for (int c = 0; c < n; c++) {
                body.run(c);
            }
            return;
        }
        Loop loop = new Loop(n, body);
        ExecutorService p = pool();
        for (int t = 0; t < helpers; t++) {
            p.execute(loop::work);
        }
        loop.work();
        loop.await();
    }

    /**
     * How many chunks a parallel loop aims for: several per thread, so that the chunks left when
     * one thread falls behind are small enough for the others to absorb.
     */
    public static int chunkTarget() {
        return threads == 1 ? 1 : threads * CHUNKS_PER_THREAD;
    }

    /**
     * One {@link #forChunks} call's shared state. The caller waits for completed chunks, not for
     * the helpers: a helper that starts after every chunk was claimed finds none and just ends.
     */
    private static final class Loop {
        private final int n;
        private final Chunk body;
        private final AtomicInteger next = new AtomicInteger();
        private final CountDownLatch done;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Loop(int n, Chunk body) {
            this.n = n;
            this.body = body;
            this.done = new CountDownLatch(n);
        }

        void work() {
            for (int c = next.getAndIncrement(); c < n; c = next.getAndIncrement()) {
                try {
                    if (failure.get() == null) {
                        body.run(c);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            }
        }

        void await() {
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for CPU workers", e);
            }
            Throwable f = failure.get();
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error err) {
                throw err;
            }
            if (f != null) {
                throw new IllegalStateException(f);
            }
        }
    }

    /** Nested parallel loops run serially inside a worker, so the pool cannot deadlock. */
    private static boolean isWorker() {
        return Thread.currentThread().getName().startsWith("euterpe-cpu-");
    }
}
