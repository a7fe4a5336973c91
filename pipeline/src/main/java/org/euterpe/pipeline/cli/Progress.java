package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.util.Locale;

import org.euterpe.kernels.cpu.Parallel;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.ResourceEstimate;

/**
 * Progress on stderr: a redrawn bar with step, iterations per second and ETA when stderr is a
 * terminal, plain lines otherwise; one line per stage with its time; and the time from the start
 * (before loading) to the beginning and to the end of the first denoising step. The rate and ETA leave the first step
 * out: it also pays for the JIT's warm-up, and counting it made the ETA 3-5 times too long.
 */
final class Progress implements ProgressListener {
    private final PrintStream err;
    private final boolean terminal;
    private final long start;
    private boolean firstStepSeen;
    /** When the first denoising loop began ({@link #clock} nanoseconds), or -1 before it. */
    private long denoiseStart = -1;
    private final java.util.function.LongSupplier clock;
    private long stageStart;
    /** When step 1 of the current loop ended: the rate is measured from here. */
    private long firstStepEnd;
    private int lastPrintedPercent = -1;

    /** @param start {@link System#nanoTime()} when the command started (before loading the model) */
    Progress(PrintStream err, boolean terminal, long start) {
        this(err, terminal, start, System::nanoTime);
    }

    /** @param clock nanoseconds, as {@link System#nanoTime()} (a test's own clock) */
    Progress(PrintStream err, boolean terminal, long start, java.util.function.LongSupplier clock) {
        this.err = err;
        this.terminal = terminal;
        this.start = start;
        this.clock = clock;
        this.stageStart = clock.getAsLong();
    }

    @Override
    public void onStageStart(String stage) {
        stageStart = clock.getAsLong();
        if (stage.equals("denoise") && denoiseStart < 0) {
            denoiseStart = stageStart;
        }
        lastPrintedPercent = -1;
    }

    @Override
    public void onStage(String stage, double seconds) {
        if (terminal) {
            err.print("\r\033[K");
        }
        err.printf(Locale.ROOT, "%-8s %8.3f s%n", stage, seconds);
    }

    /** Before anything runs: the estimate, so a long clip says up front what it will take. */
    @Override
    public void onEstimate(ResourceEstimate estimate) {
        err.println("estimate " + estimate.summary(Parallel.threads()));
    }

    /** A tile of the decode or a chunk of the vocode finished: the same bar (or line) as the steps. */
    @Override
    public void onStageProgress(String stage, int done, int total) {
        bar(stage, done, total, stage.equals("decode") ? "tiles" : "chunks");
    }

    /**
     * ", 2.41 s after the process started, 3.90 s of CPU": from the process's start (the JVM's,
     * or the ./euterpe launcher's, which runs the JVM in its own process, so its checks count too),
     * and the process's CPU time (all threads: the JIT's compiler threads, the GC), which, unlike
     * wall time, hardly depends on what else the machine runs. Empty where the OS does not tell.
     */
    static String sinceJvmStart() {
        ProcessHandle.Info info = ProcessHandle.current().info();
        String wall = info.startInstant().map(t -> String.format(Locale.ROOT, ", %.2f s after the process started",
                java.time.Duration.between(t, java.time.Instant.now()).toNanos() / 1e9)).orElse("");
        String cpu = info.totalCpuDuration().map(d -> String.format(Locale.ROOT, ", %.2f s of CPU",
                d.toNanos() / 1e9)).orElse("");
        return wall + cpu;
    }

    private void bar(String stage, int done, int total, String unit) {
        double elapsed = (System.nanoTime() - stageStart) / 1e9;
        double eta = elapsed / done * (total - done);
        if (terminal) {
            int width = 30;
            int filled = (int) Math.round((double) done / total * width);
            err.printf(Locale.ROOT, "\r\033[K%-8s [%s%s] %d/%d %s  ETA %.1f s", stage, "#".repeat(filled),
                    ".".repeat(width - filled), done, total, unit, eta);
            err.flush();
        } else {
            int percent = done * 100 / total;
            if (percent / 10 != lastPrintedPercent / 10 || done == total) { // at most ~10 lines per stage
                err.printf(Locale.ROOT, "%s %d/%d %s  ETA %.1f s%n", stage, done, total, unit, eta);
                lastPrintedPercent = percent;
            }
        }
    }

    @Override
    public boolean onStep(int step, int total) {
        long now = clock.getAsLong();
        if (!firstStepSeen) {
            firstStepSeen = true;
            if (terminal) {
                err.print("\r\033[K");
            }
            // Both start-up milestones: the denoising loop beginning (load and encode done) and step 1 ending.
            String began = denoiseStart < 0 ? ""
                    : String.format(Locale.ROOT, " (denoising began at %.3f s)", (denoiseStart - start) / 1e9);
            err.printf(Locale.ROOT, "first step done %.3f s after start%s%s%n", (now - start) / 1e9, began,
                    sinceJvmStart());
        }
        String speed;
        if (step <= 1) {
            firstStepEnd = now;
            double first = (now - stageStart) / 1e9;
            speed = String.format(Locale.ROOT, "first step %.2f s (warm-up)  ETA --", first);
        } else {
            double rate = (step - 1) / Math.max((now - firstStepEnd) / 1e9, 1e-9);
            speed = String.format(Locale.ROOT, "%.2f it/s  ETA %.1f s", rate, (total - step) / rate);
        }
        if (terminal) {
            int width = 30;
            int filled = (int) Math.round((double) step / total * width);
            err.printf(Locale.ROOT, "\r\033[Kdenoise  [%s%s] %d/%d  %s", "#".repeat(filled),
                    ".".repeat(width - filled), step, total, speed);
            err.flush();
        } else {
            int percent = step * 100 / total;
            if (lastPrintedPercent < 0 || percent / 10 != lastPrintedPercent / 10 || step == total) {
                err.printf(Locale.ROOT, "step %d/%d  %s%n", step, total, speed);
                lastPrintedPercent = percent;
            }
        }
        return true;
    }
}
