package org.euterpe.tensor;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Recycles the heap arrays of closed activation storages ({@link HostStorage#allocate}).
 *
 * <p>Why: every op returns a new tensor, and the large activations of the VAE and vocoder are
 * tens to hundreds of MB each. Allocated fresh, they arrive faster than the GC reclaims them,
 * so the heap grows to its ceiling (several GB) and every allocation pays for zeroing. Model
 * code frees intermediates deterministically (scopes), and layers of one resolution allocate
 * the same sizes again and again, so an array freed by one layer is very likely asked for, at
 * exactly that length, by the next.
 *
 * <p>Arrays are kept per (dtype, exact length), so a recycled array is exactly the size of the
 * storage (kernels may rely on {@code array.length == numel}). The pool holds at most
 * {@link #capacityBytes()}: beyond that the least recently used size class gives up its oldest
 * array to the GC, so sizes of a stage that has finished (say the U-Net's, once the VAE runs)
 * leave first. Arrays under {@link #minBytes()} are not pooled: the JVM allocates those cheaply
 * and the young generation reclaims them at little cost.
 *
 * <p>Thread-safe; contention is low since only large arrays pass through.
 */
public final class HeapArrayPool {
    /** The shared pool's capacity, in bytes; 0 disables pooling. Default: 1/8 of the max heap. */
    public static final String CAPACITY_PROPERTY = "euterpe.pool.bytes";

    private static final long DEFAULT_MIN_BYTES = 64 * 1024;

    private record SizeClass(DType dtype, int length) {
    }

    private final long capacityBytes;
    private final long minBytes;
    /** Free arrays by size class, least recently used class first; each deque oldest first. */
    private final LinkedHashMap<SizeClass, ArrayDeque<Object>> free = new LinkedHashMap<>(16, 0.75f, true);
    private long pooledBytes;

    public HeapArrayPool(long capacityBytes, long minBytes) {
        if (capacityBytes < 0 || minBytes < 0) {
            throw new IllegalArgumentException("pool sizes must be >= 0, got capacity " + capacityBytes
                    + " and minimum " + minBytes);
        }
        this.capacityBytes = capacityBytes;
        this.minBytes = minBytes;
    }

    /** A pool sized by {@value #CAPACITY_PROPERTY} (default: an eighth of the max heap). */
    public static HeapArrayPool fromSystemProperties() {
        long capacity = Long.getLong(CAPACITY_PROPERTY, Runtime.getRuntime().maxMemory() / 8);
        return new HeapArrayPool(capacity, DEFAULT_MIN_BYTES);
    }

    public long capacityBytes() {
        return capacityBytes;
    }

    public long minBytes() {
        return minBytes;
    }

    /** Bytes held now in free arrays. */
    public synchronized long pooledBytes() {
        return pooledBytes;
    }

    /** Whether arrays of this many bytes pass through the pool at all. */
    boolean accepts(long bytes) {
        return bytes >= minBytes && bytes <= capacityBytes;
    }

    /**
     * A free array of {@code dtype}'s Java element type with exactly {@code length} elements,
     * holding whatever its last user wrote; null when there is none.
     */
    synchronized Object take(DType dtype, int length) {
        SizeClass key = new SizeClass(dtype, length);
        ArrayDeque<Object> arrays = free.get(key);
        if (arrays == null) {
            return null;
        }
        Object a = arrays.pollLast(); // the most recently freed: likeliest still in cache
        if (arrays.isEmpty()) {
            free.remove(key);
        }
        pooledBytes -= bytes(dtype, length);
        return a;
    }

    /** Hands back an array that no storage uses any more; evicts old arrays over capacity. */
    synchronized void give(DType dtype, Object array, int length) {
        long size = bytes(dtype, length);
        if (!accepts(size)) {
            return;
        }
        free.computeIfAbsent(new SizeClass(dtype, length), k -> new ArrayDeque<>()).addLast(array);
        pooledBytes += size;
        Iterator<Map.Entry<SizeClass, ArrayDeque<Object>>> lru = free.entrySet().iterator();
        while (pooledBytes > capacityBytes) {
            Map.Entry<SizeClass, ArrayDeque<Object>> e = lru.next();
            ArrayDeque<Object> arrays = e.getValue();
            while (!arrays.isEmpty() && pooledBytes > capacityBytes) {
                arrays.pollFirst();
                pooledBytes -= bytes(e.getKey().dtype(), e.getKey().length());
            }
            if (arrays.isEmpty()) {
                lru.remove();
            }
        }
    }

    /** Drops every free array (to the GC). */
    public synchronized void clear() {
        free.clear();
        pooledBytes = 0;
    }

    static long bytes(DType dtype, long length) {
        return length * dtype.byteSize();
    }
}
