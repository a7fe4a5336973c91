package org.euterpe.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident memory as Linux reports it in {@code /proc/self/status}: what a model
 * really costs in RAM, mapped weight pages included (which the Java heap figures miss).
 */
public final class ResidentMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private ResidentMemory() {
    }

    /** Resident set size now ({@code VmRSS}) in bytes, or -1 where the system does not report it. */
    public static long current() {
        return read("VmRSS:");
    }

    /** The peak resident set size so far ({@code VmHWM}) in bytes, or -1 where not reported. */
    public static long peak() {
        return read("VmHWM:");
    }

    /** e.g. "412.3 MiB", or "unknown". */
    public static String format(long bytes) {
        return bytes < 0 ? "unknown" : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private static long read(String field) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(field)) {
                    String[] parts = line.substring(field.length()).trim().split("\\s+");
                    long kib = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? kib * 1024 : kib;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc is not mounted: report unknown
        }
        return -1;
    }
}
