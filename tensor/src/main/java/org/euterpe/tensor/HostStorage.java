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
 * fastest loads ({@link #floats()}). Their arrays may come from, and go back to, a
 * {@link HeapArrayPool} ({@link #allocate}); each use gets a new storage object, so a tensor of a
 * closed storage still fails instead of seeing the array's next user.
 */
public final class HostStorage implements Storage {
    private MemorySegment segment;
    private final Arena arena; // null for heap memory or borrowed (mapped) memory
    private final Object keepAlive; // e.g. the mapped file that owns the memory
    private final long byteSize;
    private final HeapArrayPool pool; // where the heap array goes on close, or null
    private final DType pooledType;

    private HostStorage(MemorySegment segment, Arena arena, Object keepAlive, HeapArrayPool pool, DType pooledType) {
        this.segment = segment;
        this.arena = arena;
        this.keepAlive = keepAlive;
        this.byteSize = segment.byteSize();
        this.pool = pool;
        this.pooledType = pooledType;
    }

    private HostStorage(MemorySegment segment, Arena arena, Object keepAlive) {
        this(segment, arena, keepAlive, null, null);
    }

    /** Zero-filled heap storage for {@code numel} elements of {@code dtype}. */
    public static HostStorage allocateHeap(DType dtype, long numel) {
        return new HostStorage(newArray(dtype, Math.toIntExact(numel)), null, null);
    }

    /**
     * Heap storage for {@code numel} elements of {@code dtype} whose array is recycled from
     * {@code pool} when it has one of that length, and handed back to it on {@link #close}.
     *
     * @param zeroed whether the elements must be 0; when false they are whatever the array's
     *               previous user left, so the caller must write every element before reading
     */
    public static HostStorage allocate(HeapArrayPool pool, DType dtype, long numel, boolean zeroed) {
        int n = Math.toIntExact(numel);
        if (!pool.accepts(HeapArrayPool.bytes(dtype, n))) {
            return allocateHeap(dtype, n);
        }
        Object recycled = pool.take(dtype, n);
        MemorySegment seg;
        if (recycled == null) {
            seg = newArray(dtype, n); // zeroed by the JVM
        } else {
            seg = wrapArray(recycled);
            if (zeroed) {
                seg.fill((byte) 0);
            }
        }
        return new HostStorage(seg, null, null, pool, dtype);
    }

    /** A new zeroed array of {@code dtype}'s Java element type, as a segment. */
    private static MemorySegment newArray(DType dtype, int n) {
        return switch (dtype) {
            case F32 -> MemorySegment.ofArray(new float[n]);
            case F16, BF16 -> MemorySegment.ofArray(new short[n]);
            case I8 -> MemorySegment.ofArray(new byte[n]);
            case I32 -> MemorySegment.ofArray(new int[n]);
            case I64 -> MemorySegment.ofArray(new long[n]);
        };
    }

    private static MemorySegment wrapArray(Object array) {
        return switch (array) {
            case float[] a -> MemorySegment.ofArray(a);
            case short[] a -> MemorySegment.ofArray(a);
            case byte[] a -> MemorySegment.ofArray(a);
            case int[] a -> MemorySegment.ofArray(a);
            case long[] a -> MemorySegment.ofArray(a);
            default -> throw new IllegalStateException("not a primitive array: " + array.getClass());
        };
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

    /** Synchronized so that two racing closes cannot hand one array to the pool twice. */
    @Override
    public synchronized void close() {
        MemorySegment s = segment;
        if (s != null) {
            segment = null;
            if (arena != null) {
                arena.close();
            }
            if (pool != null) {
                pool.give(pooledType, s.heapBase().orElseThrow(), Math.toIntExact(byteSize / pooledType.byteSize()));
            }
        }
    }
}
