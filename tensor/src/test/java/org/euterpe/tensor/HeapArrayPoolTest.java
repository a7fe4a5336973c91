package org.euterpe.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

/** The activation array pool: exact sizes, its byte cap with LRU eviction, and HostStorage's use of it. */
class HeapArrayPoolTest {

    private static Object array(HostStorage s) {
        return s.segment().heapBase().orElseThrow();
    }

    @Test
    void reusesAnArrayOfExactlyTheRequestedLengthAndType() {
        HeapArrayPool pool = new HeapArrayPool(1 << 20, 16);
        HostStorage a = HostStorage.allocate(pool, DType.F32, 100, true);
        Object backing = array(a);
        a.close();
        assertEquals(400, pool.pooledBytes());
        assertNull(pool.take(DType.F32, 101), "another length");
        assertNull(pool.take(DType.I32, 100), "another type of the same byte size");
        HostStorage b = HostStorage.allocate(pool, DType.F32, 100, false);
        assertSame(backing, array(b));
        assertEquals(0, pool.pooledBytes());
    }

    @Test
    void zeroedAllocationClearsARecycledArray() {
        HeapArrayPool pool = new HeapArrayPool(1 << 20, 16);
        HostStorage a = HostStorage.allocate(pool, DType.I64, 50, true);
        a.segment().fill((byte) 0x5A);
        a.close();
        HostStorage b = HostStorage.allocate(pool, DType.I64, 50, true);
        for (int i = 0; i < 50; i++) {
            assertEquals(0L, b.segment().getAtIndex(ValueLayout.JAVA_LONG, i));
        }
    }

    @Test
    void closedStorageFailsEvenAfterItsArrayFoundANewUser() {
        HeapArrayPool pool = new HeapArrayPool(1 << 20, 16);
        HostStorage a = HostStorage.allocate(pool, DType.F32, 64, true);
        a.close();
        a.close(); // idempotent: the array must not enter the pool twice
        assertEquals(256, pool.pooledBytes());
        HostStorage b = HostStorage.allocate(pool, DType.F32, 64, true);
        assertNotSame(a, b);
        assertThrows(IllegalStateException.class, a::segment);
        assertEquals(0, pool.pooledBytes());
    }

    @Test
    void capacityEvictsTheLeastRecentlyUsedSizeFirst() {
        HeapArrayPool pool = new HeapArrayPool(1000, 16); // room for two 400-byte arrays, not three
        HostStorage old = HostStorage.allocate(pool, DType.F32, 100, true);
        HostStorage mid = HostStorage.allocate(pool, DType.F32, 100, true);
        HostStorage other = HostStorage.allocate(pool, DType.I32, 100, true);
        Object otherArray = array(other);
        Object midArray = array(mid);
        old.close();
        mid.close();
        other.close();
        assertEquals(800, pool.pooledBytes());
        // The F32 class was used least recently, and its oldest array (old's) went first.
        assertSame(otherArray, pool.take(DType.I32, 100));
        assertSame(midArray, pool.take(DType.F32, 100));
        assertNull(pool.take(DType.F32, 100));
    }

    @Test
    void smallAndOversizedArraysBypassThePool() {
        HeapArrayPool pool = new HeapArrayPool(1000, 64);
        HostStorage small = HostStorage.allocate(pool, DType.F32, 8, true);   // 32 bytes < 64
        HostStorage huge = HostStorage.allocate(pool, DType.F32, 300, true);  // 1200 bytes > 1000
        small.close();
        huge.close();
        assertEquals(0, pool.pooledBytes());
    }

    @Test
    void disabledPoolAllocatesFreshZeroedArrays() {
        HeapArrayPool pool = new HeapArrayPool(0, 0);
        HostStorage a = HostStorage.allocate(pool, DType.F32, 10, false);
        MemorySegment seg = a.segment();
        seg.fill((byte) 1);
        a.close();
        HostStorage b = HostStorage.allocate(pool, DType.F32, 10, false);
        assertEquals(0f, b.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0));
    }

    @Test
    void rejectsNegativeSizes() {
        assertThrows(IllegalArgumentException.class, () -> new HeapArrayPool(-1, 0));
    }
}
