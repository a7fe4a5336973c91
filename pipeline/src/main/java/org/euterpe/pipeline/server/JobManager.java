package org.euterpe.pipeline.server;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.euterpe.pipeline.GenerationCancelledException;
import org.euterpe.pipeline.ProgressListener;

/**
 * The job queue and its workers: one thread and one {@link Engine} (pipeline) per worker, so a
 * pipeline never runs two generations at once; a bounded queue in front of them (a full queue is
 * refused, not grown); finished jobs and their audio kept for {@link Limits#keepFor()} and at most
 * {@link Limits#keepJobs()} of them, the oldest dropped first. This is all the state a server
 * process holds: nothing is written to disk and nothing is shared between processes.
 */
public final class JobManager {
    /** Opens the engine of one worker (called on that worker's thread). */
    @FunctionalInterface
    public interface EngineFactory {
        Engine open(int worker) throws Exception;
    }

    private static final Job POISON = new Job("poison", null);
    private static final SecureRandom IDS = new SecureRandom();

    private final EngineFactory factory;
    private final int workers;
    private final Limits limits;
    private final Metrics metrics;
    private final Consumer<String> log;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    /** Finished jobs, oldest first: the retention order. Guarded by itself. */
    private final ArrayDeque<Job> finishedOrder = new ArrayDeque<>();
    private final List<Thread> threads = new ArrayList<>();
    private final CountDownLatch loaded;
    private final AtomicInteger busy = new AtomicInteger();
    private volatile Map<String, Object> description;
    private volatile String loadError;
    private volatile boolean accepting = true;

    public JobManager(EngineFactory factory, int workers, Limits limits, Metrics metrics, Consumer<String> log) {
        if (workers < 1) {
            throw new IllegalArgumentException("at least one worker, got " + workers);
        }
        this.factory = factory;
        this.workers = workers;
        this.limits = limits;
        this.metrics = metrics;
        this.log = log;
        this.loaded = new CountDownLatch(workers);
    }

    /** Starts the workers; each loads its engine, so the manager is not {@linkplain #ready() ready} until all have. */
    public synchronized void start() {
        for (int i = 0; i < workers; i++) {
            int w = i;
            Thread t = Thread.ofPlatform().name("euterpe-worker-" + i).daemon(true).unstarted(() -> work(w));
            threads.add(t);
            t.start();
        }
    }

    /**
     * Waits for every worker's engine to load.
     *
     * @return null when all loaded, else the first load error
     */
    public String awaitLoaded(Duration timeout) throws InterruptedException {
        if (!loaded.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return "the model did not load within " + timeout.toSeconds() + " s";
        }
        return loadError;
    }

    private void work(int w) {
        Engine engine;
        try {
            engine = factory.open(w);
            if (description == null) {
                description = engine.describe();
            }
        } catch (Throwable t) {
            loadError = "worker " + w + " could not load the model: " + t.getMessage();
            log.accept(loadError);
            loaded.countDown();
            return;
        }
        loaded.countDown();
        try (engine) {
            while (true) {
                Job job;
                try {
                    job = queue.take();
                } catch (InterruptedException e) {
                    return;
                }
                if (job == POISON) {
                    return;
                }
                run(engine, job);
            }
        }
    }

    private void run(Engine engine, Job job) {
        if (job.cancelRequested()) { // cancelled between leaving the queue and starting
            finished(job, Job.State.CANCELLED, null, "cancelled before it started");
            return;
        }
        if (!job.start()) {
            return; // cancelled while it waited
        }
        busy.incrementAndGet();
        long[] last = {System.nanoTime()};
        ProgressListener listener = new ProgressListener() {
            @Override
            public void onStageStart(String stage) {
                if (stage.equals("denoise")) {
                    last[0] = System.nanoTime();
                }
            }

            @Override
            public boolean onStep(int step, int total) {
                long now = System.nanoTime();
                metrics.step((now - last[0]) / 1e9);
                last[0] = now;
                job.step(step, total);
                return !job.cancelRequested();
            }
        };
        try {
            Engine.Output out = engine.generate(job.spec(), listener);
            finished(job, Job.State.SUCCEEDED, out, null);
        } catch (GenerationCancelledException e) {
            finished(job, Job.State.CANCELLED, null, e.getMessage());
        } catch (Throwable t) {
            String msg = t.getMessage() != null ? t.getMessage() : t.toString();
            log.accept("job " + job.id() + " failed: " + msg);
            finished(job, Job.State.FAILED, null, msg);
            if (t instanceof Error e && !(t instanceof OutOfMemoryError) && !(t instanceof StackOverflowError)) {
                throw e;
            }
        } finally {
            busy.decrementAndGet();
        }
    }

    private void finished(Job job, Job.State state, Engine.Output out, String error) {
        if (job.finish(state, out, error)) {
            metrics.finished.get(state).incrementAndGet();
            synchronized (finishedOrder) {
                finishedOrder.addLast(job);
            }
        }
        purge();
    }

    /** Drops finished jobs beyond the count or older than the age limit. */
    void purge() {
        long now = System.nanoTime();
        synchronized (finishedOrder) {
            while (!finishedOrder.isEmpty() && (finishedOrder.size() > limits.keepJobs()
                    || now - finishedOrder.peekFirst().finishedNanos() > limits.keepFor().toNanos())) {
                Job j = finishedOrder.removeFirst();
                j.dropOutput();
                jobs.remove(j.id());
            }
        }
    }

    /**
     * Queues a job.
     *
     * @throws ApiError 429 with Retry-After when the queue is full, 503 while loading or shutting down
     */
    public synchronized Job submit(JobSpec spec) {
        purge();
        if (!accepting) {
            throw new ApiError(503, null, "the server is shutting down; send the request to another replica")
                    .header("Retry-After", "1");
        }
        if (loadError != null) {
            throw new ApiError(503, null, loadError);
        }
        if (queue.size() >= limits.queue()) {
            metrics.rejectedFull.incrementAndGet();
            throw new ApiError(429, null, "the queue is full (" + queue.size() + " jobs waiting, " + busy.get()
                    + " running); retry later or on another replica").header("Retry-After", "1");
        }
        byte[] b = new byte[12];
        IDS.nextBytes(b);
        Job job = new Job("job_" + HexFormat.of().formatHex(b), spec);
        jobs.put(job.id(), job);
        queue.add(job);
        metrics.submitted.incrementAndGet();
        return job;
    }

    public Optional<Job> get(String id) {
        purge();
        return Optional.ofNullable(jobs.get(id));
    }

    /**
     * Cancels a queued job at once, a running one at its next step; a finished job is dropped with its audio.
     *
     * @return the job, or empty if unknown
     */
    public Optional<Job> cancel(String id) {
        Job job = jobs.get(id);
        if (job == null) {
            return Optional.empty();
        }
        if (job.state().terminal()) {
            synchronized (finishedOrder) {
                finishedOrder.remove(job);
            }
            job.dropOutput();
            jobs.remove(id);
            return Optional.of(job);
        }
        job.requestCancel();
        if (queue.remove(job)) {
            finished(job, Job.State.CANCELLED, null, "cancelled before it started");
        }
        return Optional.of(job);
    }

    /** True when loaded, accepting, and the queue has room. */
    public boolean ready() {
        return notReadyReason() == null;
    }

    /** Why the server is not ready, or null. */
    public String notReadyReason() {
        if (loadError != null) {
            return loadError;
        }
        if (loaded.getCount() > 0) {
            return "loading the model";
        }
        if (!accepting) {
            return "shutting down";
        }
        if (queue.size() >= limits.queue()) {
            return "the queue is full";
        }
        return null;
    }

    /** What the first loaded engine says about its model, or null while loading. */
    public Map<String, Object> description() {
        return description;
    }

    public int workers() {
        return workers;
    }

    public int busy() {
        return busy.get();
    }

    public int queueDepth() {
        return queue.size();
    }

    public Metrics metrics() {
        return metrics;
    }

    public Limits limits() {
        return limits;
    }

    public Map<Job.State, Integer> countByState() {
        Map<Job.State, Integer> m = new EnumMap<>(Job.State.class);
        for (Job j : jobs.values()) {
            m.merge(j.state(), 1, Integer::sum);
        }
        return m;
    }

    /**
     * Stops taking jobs, lets queued and running ones finish for up to the grace period, cancels what is
     * left (queued at once, running at their next step), then stops the workers and closes their engines.
     *
     * @return true when every worker stopped
     */
    public boolean shutdown(Duration grace) throws InterruptedException {
        synchronized (this) {
            accepting = false;
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while ((!queue.isEmpty() || busy.get() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        List<Job> left = new ArrayList<>();
        queue.drainTo(left);
        for (Job j : left) {
            if (j != POISON) {
                j.requestCancel();
                finished(j, Job.State.CANCELLED, null, "cancelled: the server shut down before it started");
            }
        }
        for (Job j : jobs.values()) {
            if (!j.state().terminal()) {
                j.requestCancel();
            }
        }
        for (int i = 0; i < workers; i++) {
            queue.add(POISON);
        }
        boolean all = true;
        for (Thread t : threads) {
            // A running job stops at its next step; give it that long (and at least a few seconds).
            t.join(Math.max(5000, grace.toMillis()));
            all &= !t.isAlive();
        }
        return all;
    }
}
