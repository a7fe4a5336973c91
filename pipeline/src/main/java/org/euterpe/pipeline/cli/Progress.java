package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.util.Locale;

import org.euterpe.kernels.cpu.Parallel;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.ResourceEstimate;

/**
 * Progress on stderr: a redrawn bar with step, iterations per second and ETA when stderr is a
 * terminal, plain lines otherwise; one line per stage with its time; and the time from the start
 * (before loading) to the end of the first denoising step.
 */
final class Progress implements ProgressListener {
    private final PrintStream err;
    private final boolean terminal;
    private final long start;
    private boolean firstStepSeen;
    private long stageStart = System.nanoTime();
    private int lastPrintedPercent = -1;

    /** @param start {@link System#nanoTime()} when the command started (before loading the model) */
    Progress(PrintStream err, boolean terminal, long start) {
        this.err = err;
        this.terminal = terminal;
        this.start = start;
    }

    @Override
    public void onStageStart(String stage) {
        stageStart = System.nanoTime();
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
        long now = System.nanoTime();
        if (!firstStepSeen) {
            firstStepSeen = true;
            if (terminal) {
                err.print("\r\033[K");
            }
            err.printf(Locale.ROOT, "first step done %.3f s after start%n", (now - start) / 1e9);
        }
        double elapsed = (now - stageStart) / 1e9;
        double rate = step / Math.max(elapsed, 1e-9);
        double eta = (total - step) / rate;
        if (terminal) {
            int width = 30;
            int filled = (int) Math.round((double) step / total * width);
            err.printf(Locale.ROOT, "\r\033[Kdenoise  [%s%s] %d/%d  %.2f it/s  ETA %.1f s", "#".repeat(filled),
                    ".".repeat(width - filled), step, total, rate, eta);
            err.flush();
        } else {
            int percent = step * 100 / total;
            if (percent / 10 != lastPrintedPercent / 10 || step == total) {
                err.printf(Locale.ROOT, "step %d/%d  %.2f it/s  ETA %.1f s%n", step, total, rate, eta);
                lastPrintedPercent = percent;
            }
        }
        return true;
    }
}
