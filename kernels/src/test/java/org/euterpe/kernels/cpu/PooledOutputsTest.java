package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.HeapArrayPool;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Op outputs on recycled arrays: each op is run once on fresh (zeroed) arrays and once with
 * arrays of its output's exact size waiting in the pool, filled with all-ones bytes (NaN as
 * floats, -1 as integers). The two results must be identical, so an op that leaves an element
 * unwritten on an undefined-contents output, or a zeros() that hands out a dirty array, fails.
 */
class PooledOutputsTest {
    private static final VectorBackend BE = new VectorBackend();
    private static final HeapArrayPool POOL = CpuBackendBase.pool();
    /** Dirty arrays offered per output size: more than one op allocates of that size at a time. */
    private static final int DIRTY_COPIES = 3;
    private final Random r = new Random(7);

    @AfterEach
    void emptyPool() {
        POOL.clear();
    }

    private Tensor rand(int... dims) {
        return KernelTestSupport.f32(r, dims);
    }

    private Tensor positive(int... dims) {
        float[] v = KernelTestSupport.random(r, Math.toIntExact(Shape.of(dims).numel()));
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]) + 0.1f;
        }
        return BE.fromArray(v, Shape.of(dims));
    }

    /**
     * Puts {@link #DIRTY_COPIES} all-ones arrays of {@code n} elements of {@code dtype} in the pool;
     * returns them, by identity.
     */
    private static Set<Object> dirty(DType dtype, long n) {
        List<Tensor> ts = new ArrayList<>();
        Set<Object> arrays = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < DIRTY_COPIES; i++) {
            Tensor t = BE.zeros(dtype, Shape.of(Math.toIntExact(n)));
            CpuBackendBase.segment(t).fill((byte) 0xFF);
            arrays.add(CpuBackendBase.segment(t).heapBase().orElseThrow());
            ts.add(t);
        }
        ts.forEach(Tensor::close);
        return arrays;
    }

    private static void assertSameOnDirtyArrays(String what, Supplier<Tensor> op) {
        POOL.clear();
        Tensor fresh = op.get();
        float[] expected = fresh.toFloatArray();
        DType dtype = fresh.dtype();
        long numel = fresh.numel();
        assertTrue(numel * dtype.byteSize() >= POOL.minBytes(), what + ": output too small to be pooled");
        POOL.clear();
        Set<Object> dirtied = dirty(dtype, numel);
        Tensor recycled = op.get();
        // By identity: the pool's byte count cannot tell which array the output got.
        assertTrue(dirtied.contains(CpuBackendBase.segment(recycled).heapBase().orElseThrow()),
                what + ": the output did not come from the pool");
        assertArrayEquals(expected, recycled.toFloatArray(), what);
    }

    @Test
    void elementWiseOpsOverwriteEveryElement() {
        Tensor x = rand(4, 64, 100);
        Tensor pos = positive(4, 64, 100);
        for (UnaryOp op : UnaryOp.values()) {
            Tensor in = op == UnaryOp.SQRT ? pos : x;
            assertSameOnDirtyArrays(op.name(), () -> BE.unary(op, in, 0.2f));
        }
        Tensor colBias = rand(64, 1);
        for (BinaryOp op : BinaryOp.values()) {
            assertSameOnDirtyArrays(op + " broadcast", () -> BE.binary(op, x, colBias));
            assertSameOnDirtyArrays(op + " same shape", () -> BE.binary(op, pos, x));
            assertSameOnDirtyArrays(op + " scalar", () -> BE.scalar(op, x, 1.5f));
        }
    }

    @Test
    void normalisationsAndReductionsOverwriteEveryElement() {
        Tensor img = rand(4, 64, 10, 10);
        Tensor gamma = rand(64);
        Tensor beta = rand(64);
        assertSameOnDirtyArrays("groupNorm", () -> BE.groupNorm(img, 8, gamma, beta, 1e-5f, false));
        assertSameOnDirtyArrays("groupNorm+silu", () -> BE.groupNorm(img, 8, null, null, 1e-5f, true));
        Tensor rows = rand(256, 100);
        Tensor lnGamma = rand(100);
        Tensor lnBeta = rand(100);
        assertSameOnDirtyArrays("layerNorm", () -> BE.layerNorm(rows, lnGamma, lnBeta, 1e-5f));
        assertSameOnDirtyArrays("softmax", () -> BE.softmax(rows));
        assertSameOnDirtyArrays("l2Normalize", () -> BE.l2Normalize(rows, 1e-12f));
        Tensor cube = rand(4, 8, 6400);
        assertSameOnDirtyArrays("sum over a middle dim", () -> BE.sum(cube, 1, false));
        Tensor narrow = rand(20000, 3);
        assertSameOnDirtyArrays("mean over the last dim", () -> BE.mean(narrow, -1, true));
    }

    @Test
    void attentionAndConvTransposeOverwriteEveryElement() {
        Tensor q = rand(1, 2, 128, 64);
        Tensor k = rand(1, 2, 96, 64);
        Tensor v = rand(1, 2, 96, 64);
        assertSameOnDirtyArrays("attention", () -> BE.attention(q, k, v, null, 0.125f));
        Tensor x = rand(2, 64, 300);
        Tensor w = rand(64, 32, 4);
        Tensor b = rand(32);
        assertSameOnDirtyArrays("convTranspose1d", () -> BE.convTranspose1d(x, w, b, 2, 1, 0, 1));
        assertSameOnDirtyArrays("convTranspose1d, no bias", () -> BE.convTranspose1d(x, w, null, 2, 1, 0, 1));
    }

    @Test
    void dataMovementOverwritesEveryElement() {
        Tensor x = rand(8, 64, 100);
        assertSameOnDirtyArrays("concat", () -> BE.concat(List.of(x, x.slice(1, 0, 16)), 1));
        assertSameOnDirtyArrays("slice copy", () -> BE.slice(x, 1, 8, 48));
        assertSameOnDirtyArrays("permute", () -> BE.permute(x, 0, 2, 1));
        Tensor img = rand(1, 16, 20, 25);
        assertSameOnDirtyArrays("upsampleNearest", () -> BE.upsampleNearest(img, 40, 50));
        long[] ids = new long[200];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(100);
        }
        Tensor idT = BE.fromArray(ids, Shape.of(200));
        Tensor table = rand(100, 128);
        assertSameOnDirtyArrays("embedding", () -> BE.embedding(idT, table));
        assertSameOnDirtyArrays("cast to F16", () -> BE.cast(x, DType.F16));
        assertSameOnDirtyArrays("fromArray long", () -> BE.fromArray(new long[20000], Shape.of(20000)));
        assertSameOnDirtyArrays("fromArray float", () -> BE.fromArray(new float[20000], Shape.of(20000)));
    }

    /** These accumulate into or only partly write their output, so they rely on zeros() being zero. */
    @Test
    void opsOnZeroedOutputsSeeZeros() {
        Tensor a = rand(128, 64);
        Tensor b = rand(64, 200);
        assertSameOnDirtyArrays("matmul", () -> BE.matmul(a, b, false, false, 1f, null, 0f, null));
        Tensor img = rand(1, 8, 40, 40);
        Tensor filt = rand(16, 8, 3, 3);
        assertSameOnDirtyArrays("conv2d (Winograd)", () -> BE.conv2d(img, filt, null, 1, 1, 1));
        Tensor filt64 = rand(64, 8, 3, 3);
        assertSameOnDirtyArrays("conv2d (im2col)", () -> BE.conv2d(img, filt64, null, 2, 1, 1));
        Tensor x = rand(4, 64, 100);
        assertSameOnDirtyArrays("pad", () -> BE.pad(x, new int[] {2, 2}, 0f));
        assertSameOnDirtyArrays("zeros", () -> BE.zeros(DType.F32, Shape.of(64, 512)));
    }

    @Test
    void closedStorageStaysClosedWhenItsArrayIsReused() {
        Tensor t = BE.zeros(DType.F32, Shape.of(64, 512));
        MemorySegment before = CpuBackendBase.segment(t);
        t.close();
        Tensor reuser = BE.zeros(DType.F32, Shape.of(64, 512));
        assertTrue(CpuBackendBase.segment(reuser).heapBase().orElseThrow()
                == before.heapBase().orElseThrow(), "the freed array was not reused");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, t::toFloatArray);
    }
}
