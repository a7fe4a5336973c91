package org.euterpe.kernels.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The CPU kernels' worker threads: a fixed pool of daemon threads, one per core by default
 * ({@code -Deuterpe.threads=N} or {@link #setThreads}). Work is split into contiguous index
 * ranges, one per thread, so neighbouring outputs stay on one core (no false sharing).
 */
public final class Parallel {
    private static volatile int threads = Integer.getInteger("euterpe.threads",
            Runtime.getRuntime().availableProcessors());
    private static volatile ExecutorService pool;

    private Parallel() {
    }

    /** The body of a parallel loop: handles indices {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
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
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous
     * ranges, the calling thread taking the first. Returns when all are done; the first
     * exception thrown by a range is rethrown.
     *
     * @param minPerTask do not split below this many indices per range (small work stays serial)
     */
    public static void forRange(int n, int minPerTask, Range body) {
        int tasks = Math.min(threads, Math.max(1, n / Math.max(1, minPerTask)));
        if (tasks <= 1 || isWorker()) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        CountDownLatch done = new CountDownLatch(tasks - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        ExecutorService p = pool();
        for (int t = 1; t < tasks; t++) {
            int from = (int) ((long) n * t / tasks);
            int to = (int) ((long) n * (t + 1) / tasks);
            p.execute(() -> {
                try {
                    body.run(from, to);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            body.run(0, (int) ((long) n / tasks));
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
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
    }

    /** Nested parallel loops run serially inside a worker, so the pool cannot deadlock. */
    private static boolean isWorker() {
        return Thread.currentThread().getName().startsWith("euterpe-cpu-");
    }
}
