package org.euterpe.pipeline.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One generation request and what became of it. Its state moves
 * {@code queued → running → succeeded | failed | cancelled} (or {@code queued → cancelled}); each
 * change bumps a version that {@link #awaitChange} waits on, so progress streams need no polling.
 */
public final class Job {
    public enum State {
        QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

        public boolean terminal() {
            return this == SUCCEEDED || this == FAILED || this == CANCELLED;
        }

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A consistent copy of a job's progress. */
    public record Snapshot(State state, int step, int total, long version, String error, double etaSeconds,
            List<Long> stepNanos) {
    }

    private final String id;
    private final JobSpec spec;
    private final long createdMillis = System.currentTimeMillis();
    private State state = State.QUEUED;
    private int step;
    private int total;
    private long version;
    private String error;
    private long startedNanos;
    private long startedMillis;
    private long finishedMillis;
    private long finishedNanos;
    /** When each step finished (System.nanoTime), so an event stream can report every step. */
    private final List<Long> stepNanos = new ArrayList<>();
    private Engine.Output output;
    private volatile boolean cancelRequested;

    Job(String id, JobSpec spec) {
        this.id = id;
        this.spec = spec;
    }

    public String id() {
        return id;
    }

    public JobSpec spec() {
        return spec;
    }

    public synchronized State state() {
        return state;
    }

    public synchronized Engine.Output output() {
        return output;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    /** Asks a running job to stop at its next step; a queued one is cancelled by the manager. */
    void requestCancel() {
        cancelRequested = true;
    }

    synchronized boolean start() {
        if (state != State.QUEUED) {
            return false;
        }
        state = State.RUNNING;
        startedNanos = System.nanoTime();
        startedMillis = System.currentTimeMillis();
        changed();
        return true;
    }

    synchronized void step(int k, int of) {
        step = k;
        total = of;
        stepNanos.add(System.nanoTime());
        changed();
    }

    /** Moves to a terminal state; false if it already was in one. */
    synchronized boolean finish(State s, Engine.Output out, String err) {
        if (state.terminal()) {
            return false;
        }
        state = s;
        output = out;
        error = err;
        finishedMillis = System.currentTimeMillis();
        finishedNanos = System.nanoTime();
        changed();
        return true;
    }

    /** Frees the audio (the job stays listed until it is dropped). */
    synchronized void dropOutput() {
        output = null;
    }

    synchronized long finishedNanos() {
        return finishedNanos;
    }

    private void changed() {
        version++;
        notifyAll();
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(state, step, total, version, error, eta(), List.copyOf(stepNanos));
    }

    /**
     * Waits until the version passes {@code seen} or {@code timeoutMillis} pass.
     *
     * @return the snapshot then
     */
    public synchronized Snapshot awaitChange(long seen, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (version <= seen) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        return snapshot();
    }

    /** Seconds left, from the mean step time so far (denoising dominates); -1 when unknown. */
    private double eta() {
        if (state != State.RUNNING || step == 0 || total == 0) {
            return state.terminal() ? 0 : -1;
        }
        double perStep = (stepNanos.get(step - 1) - startedNanos) / 1e9 / step;
        return Math.max(0, perStep * (total - step));
    }

    /** The job as {@code GET /v1/jobs/{id}} shows it. */
    public synchronized Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("state", state.json());
        m.put("step", step);
        m.put("total", total);
        double eta = eta();
        m.put("eta_seconds", eta < 0 ? null : Math.round(eta * 1000) / 1000.0);
        m.put("error", error);
        m.put("created", createdMillis / 1000.0);
        m.put("started", startedMillis == 0 ? null : startedMillis / 1000.0);
        m.put("finished", finishedMillis == 0 ? null : finishedMillis / 1000.0);
        m.put("request", spec.toJson());
        if (state == State.SUCCEEDED && output != null) {
            List<String> audio = new ArrayList<>();
            for (int i = 0; i < output.waveforms().length; i++) {
                audio.add("/v1/jobs/" + id + "/audio?index=" + i);
            }
            m.put("sample_rate", output.sampleRate());
            m.put("audio", audio);
        }
        return m;
    }
}
