package org.euterpe.kernels.cpu;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One op's scratch array that outlives the op, shared by all the ops that use this workspace:
 * it grows to the largest size asked for and is then reused, like a cuDNN workspace.
 *
 * <p>Why not the activation pool: the pool keeps arrays by exact size, and scratch sizes differ
 * with every layer shape (the U-Net's Winograd convolutions alone asked for some thirty), so the
 * pool held one idle array per shape, about 150 MB of a U-Net step's heap. Why not per thread: the
 * op's worker threads share one scratch, and the caller's thread would hold a copy per caller.
 *
 * <p>Thread-safe: {@link #take} hands the array out exclusively; a second op taking it meanwhile
 * (two pipelines on different threads) gets a fresh array, and {@link #give} keeps the larger.
 */
final class Workspace {
    private static final List<Workspace> ALL = new CopyOnWriteArrayList<>();

    private final AtomicReference<float[]> free = new AtomicReference<>(new float[0]);

    Workspace() {
        ALL.add(this);
    }

    /** Drops every workspace's idle array (one taken now is kept when given back). */
    static void releaseAll() {
        for (Workspace w : ALL) {
            w.free.set(new float[0]);
        }
    }

    /** An array of at least {@code size} floats, the caller's until {@link #give}; contents undefined. */
    float[] take(long size) {
        float[] a = free.getAndSet(null);
        if (a == null || a.length < size) {
            a = new float[Math.toIntExact(size)];
        }
        return a;
    }

    /** Hands back an array from {@link #take}, to be reused by the next op. */
    void give(float[] a) {
        free.accumulateAndGet(a, (held, given) -> held == null || given.length > held.length ? given : held);
    }

    /** Floats held now while idle (0 while taken). */
    long heldFloats() {
        float[] a = free.get();
        return a == null ? 0 : a.length;
    }
}
