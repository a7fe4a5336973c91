package org.euterpe.kernels.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import jcuda.driver.CUdeviceptr;

/**
 * Freed device buffers kept for reuse, by exact size. A denoising loop allocates the same
 * activation sizes every step, so after the first step it allocates nothing; cuMemAlloc and
 * cuMemFree both synchronise the device, which would stall every op otherwise. Buffers are
 * reused on the one stream the backend launches on, so a reused buffer is only written after
 * the kernels that read its previous contents.
 */
final class BufferPool {
    private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
    private final long capacity;
    private long held;

    /** @param capacity most bytes kept; beyond it freed buffers go back to the driver */
    BufferPool(long capacity) {
        this.capacity = capacity;
    }

    /** A pooled buffer of exactly {@code bytes}, or null. */
    synchronized CUdeviceptr take(long bytes) {
        ArrayDeque<CUdeviceptr> q = free.get(bytes);
        CUdeviceptr p = q == null ? null : q.poll();
        if (p != null) {
            held -= bytes;
        }
        return p;
    }

    /** Keeps {@code p} for reuse; false when the pool is full (the caller frees it). */
    synchronized boolean give(CUdeviceptr p, long bytes) {
        if (held + bytes > capacity) {
            return false;
        }
        free.computeIfAbsent(bytes, b -> new ArrayDeque<>()).push(p);
        held += bytes;
        return true;
    }

    /** Empties the pool, passing every buffer to {@code freer}. */
    synchronized void drain(java.util.function.Consumer<CUdeviceptr> freer) {
        free.values().forEach(q -> q.forEach(freer));
        free.clear();
        held = 0;
    }
}
