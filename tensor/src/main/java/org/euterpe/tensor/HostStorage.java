package org.euterpe.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Storage in CPU memory, as a {@link MemorySegment}.
 *
 * <p>Why segments: one type covers both the weights, which are memory-mapped straight from a
 * safetensors file (off-heap, possibly above 2 GB, zero-copy), and activations. Activations
 * are allocated as heap arrays wrapped in segments ({@link #allocateHeap}): any worker thread
 * may touch them, freeing costs nothing (a shared {@link Arena} would pay a thread handshake
 * on every close), and kernels can reach the backing {@code float[]} for the Vector API's
 * fastest loads ({@link #floats()}).
 */
public final class HostStorage implements Storage {
    private MemorySegment segment;
    private final Arena arena; // null for heap memory or borrowed (mapped) memory
    private final Object keepAlive; // e.g. the mapped file that owns the memory
    private final long byteSize;

    private HostStorage(MemorySegment segment, Arena arena, Object keepAlive) {
        this.segment = segment;
        this.arena = arena;
        this.keepAlive = keepAlive;
        this.byteSize = segment.byteSize();
    }

    /** Zero-filled heap storage for {@code numel} elements of {@code dtype}. */
    public static HostStorage allocateHeap(DType dtype, long numel) {
        int n = Math.toIntExact(numel);
        MemorySegment seg = switch (dtype) {
            case F32 -> MemorySegment.ofArray(new float[n]);
            case F16, BF16 -> MemorySegment.ofArray(new short[n]);
            case I8 -> MemorySegment.ofArray(new byte[n]);
            case I32 -> MemorySegment.ofArray(new int[n]);
            case I64 -> MemorySegment.ofArray(new long[n]);
        };
        return new HostStorage(seg, null, null);
    }

    /** Wraps an existing float array, without copying. */
    public static HostStorage wrap(float[] data) {
        return new HostStorage(MemorySegment.ofArray(data), null, null);
    }

    /**
     * Borrows memory someone else owns (a mapped file). {@code owner} is kept reachable as long as
     * this storage is; closing this storage does not unmap anything.
     */
    public static HostStorage borrow(MemorySegment segment, Object owner) {
        return new HostStorage(segment, null, owner);
    }

    /** Takes ownership of a segment allocated from {@code arena}; close closes the arena. */
    public static HostStorage owning(MemorySegment segment, Arena arena) {
        return new HostStorage(segment, arena, null);
    }

    /** The memory. Throws if closed. */
    public MemorySegment segment() {
        MemorySegment s = segment;
        if (s == null) {
            throw new IllegalStateException("tensor storage used after close");
        }
        return s;
    }

    /** The backing {@code float[]} when this is heap F32 memory, else null. */
    public float[] floats() {
        return segment().heapBase().orElse(null) instanceof float[] f ? f : null;
    }

    /** The owner passed to {@link #borrow}, if any. */
    public Object owner() {
        return keepAlive;
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    @Override
    public boolean isClosed() {
        return segment == null;
    }

    @Override
    public void close() {
        if (segment != null) {
            segment = null;
            if (arena != null) {
                arena.close();
            }
        }
    }
}
