package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.util.Locale;

import org.euterpe.pipeline.hub.DownloadListener;

/**
 * Download progress on stderr: per file, a redrawn bar with bytes, rate and ETA on a terminal, a
 * line per 10% otherwise, and one line when the file is in the cache.
 */
final class DownloadProgress implements DownloadListener {
    private final PrintStream err;
    private final boolean terminal;
    private long started;
    private long startBytes;
    private long total;
    private int lastDecile;
    private long downloaded;

    DownloadProgress(PrintStream err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    /** Bytes downloaded over the whole pull. */
    long downloaded() {
        return downloaded;
    }

    @Override
    public void fileStarted(String path, long total, long resumedAt) {
        this.started = System.nanoTime();
        this.startBytes = resumedAt;
        this.total = total;
        this.lastDecile = -1;
        if (resumedAt > 0) {
            clear();
            err.println("resuming " + path + " at " + ConvertCommand.size(resumedAt));
        }
    }

    @Override
    public void progress(String path, long bytes) {
        double secs = Math.max((System.nanoTime() - started) / 1e9, 1e-3);
        double rate = (bytes - startBytes) / secs;
        String eta = total > 0 && rate > 0 ? String.format(Locale.ROOT, "%.0f s", (total - bytes) / rate) : "?";
        String of = total > 0 ? " / " + ConvertCommand.size(total) : "";
        if (terminal) {
            int width = 24;
            int filled = total > 0 ? (int) Math.min(width, bytes * width / total) : 0;
            err.printf(Locale.ROOT, "\r\033[K%-40s [%s%s] %s%s  %s/s  ETA %s", shorten(path), "#".repeat(filled),
                    ".".repeat(width - filled), ConvertCommand.size(bytes), of, ConvertCommand.size((long) rate), eta);
            err.flush();
        } else if (total > 0) {
            int decile = (int) (bytes * 10 / total);
            if (decile != lastDecile && decile < 10) {
                lastDecile = decile;
                err.printf(Locale.ROOT, "%s: %s%s  %s/s  ETA %s%n", path, ConvertCommand.size(bytes), of,
                        ConvertCommand.size((long) rate), eta);
            }
        }
    }

    @Override
    public void fileDone(String path, long size, boolean fresh) {
        clear();
        if (fresh) {
            downloaded += size;
        }
        err.println((fresh ? "fetched  " : "cached   ") + path + " (" + ConvertCommand.size(size) + ")");
    }

    @Override
    public void note(String message) {
        clear();
        err.println("note: " + message);
    }

    private void clear() {
        if (terminal) {
            err.print("\r\033[K");
        }
    }

    private static String shorten(String path) {
        return path.length() <= 40 ? path : "…" + path.substring(path.length() - 39);
    }
}
