package org.euterpe.pipeline;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A snapshot of what a process holds: heap in use after a full GC, direct and mapped NIO buffers,
 * file mappings of weights ({@code java.lang.foreign} mappings are not NIO buffers, so they are
 * counted in {@code /proc/self/maps}), resident memory, open file descriptors and live threads.
 * Linux-only figures are -1 elsewhere.
 */
record ResourceProbe(long heapBytes, long directBytes, long mappedBytes, long mappedCount, int weightMappings,
        long rssBytes, int fds, int threads) {
    static ResourceProbe take() {
        // Several passes: one System.gc() may leave garbage that a finalising cleaner frees only later.
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        long direct = 0;
        long mapped = 0;
        long mappedCount = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct = pool.getMemoryUsed();
            } else if (pool.getName().startsWith("mapped")) {
                mapped += pool.getMemoryUsed();
                mappedCount += pool.getCount();
            }
        }
        return new ResourceProbe(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), direct, mapped,
                mappedCount, countWeightMappings(), readRss(), openFds(), Thread.activeCount());
    }

    private static int openFds() {
        Path fd = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fd)) {
            return -1;
        }
        try (Stream<Path> s = Files.list(fd)) {
            return (int) s.count();
        } catch (IOException e) {
            return -1;
        }
    }

    private static int countWeightMappings() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return (int) lines.filter(l -> l.endsWith(".safetensors")).count();
        } catch (IOException e) {
            return -1;
        }
    }

    private static long readRss() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(l -> l.startsWith("VmRSS:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024).orElse(-1L);
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "heap %.2f MiB, direct %d B, NIO-mapped %d B in %d buffers, %d weight"
                + " mappings, RSS %.1f MiB, %d fds, %d threads", heapBytes / 1048576.0, directBytes, mappedBytes,
                mappedCount, weightMappings, rssBytes / 1048576.0, fds, threads);
    }
}
