package org.euterpe.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.HeapArrayPool;
import org.euterpe.tensor.HostStorage;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Memory management shared by the CPU backends: tensors live in {@link HostStorage}, so a
 * tensor of one CPU backend can be read by another without a copy. Op outputs take their arrays
 * from one shared {@link HeapArrayPool}, which gets them back when their scope closes.
 */
public abstract class CpuBackendBase implements Backend {
    protected static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    protected static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    protected static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    protected static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    /** The arrays of every CPU backend's tensors (they share storage, so they share the pool). */
    private static final HeapArrayPool POOL = HeapArrayPool.fromSystemProperties();

    /** A new zero-filled F32 tensor, for outputs that kernels accumulate into (GEMM's C). */
    protected Tensor newF32(Shape shape) {
        return zeros(DType.F32, shape);
    }

    /**
     * A new F32 tensor with undefined contents (a recycled array), for outputs whose kernel
     * writes every element before anything reads it.
     */
    protected Tensor newF32Empty(Shape shape) {
        return empty(DType.F32, shape);
    }

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        OpShapes.zeros(dtype);
        return Tensor.owning(this, HostStorage.allocate(POOL, dtype, shape.numel(), true), shape, dtype, null);
    }

    /** Like {@link #zeros} but with undefined contents: the caller must write every element. */
    protected Tensor empty(DType dtype, Shape shape) {
        OpShapes.zeros(dtype);
        return Tensor.owning(this, HostStorage.allocate(POOL, dtype, shape.numel(), false), shape, dtype, null);
    }

    /** The shared pool of the CPU backends' activation arrays. */
    public static HeapArrayPool pool() {
        return POOL;
    }

    /**
     * Hands the idle activation arrays ({@link #pool()}) and the kernels' idle workspaces to the
     * GC: between stages, whose tensor and scratch sizes the next stage does not reuse.
     */
    public static void releaseIdleMemory() {
        POOL.clear();
        Workspace.releaseAll();
    }

    @Override
    public Tensor fromArray(float[] data, Shape shape) {
        OpShapes.fromArray(data.length, shape);
        Tensor t = empty(DType.F32, shape);
        MemorySegment.copy(data, 0, segment(t), F32, 0, data.length);
        return t;
    }

    @Override
    public Tensor fromArray(long[] data, Shape shape) {
        OpShapes.fromArray(data.length, shape);
        Tensor t = empty(DType.I64, shape);
        MemorySegment.copy(data, 0, segment(t), I64, 0, data.length);
        return t;
    }

    @Override
    public Tensor fromHost(MemorySegment bytes, DType dtype, Shape shape, Tensor scales) {
        OpShapes.fromHost(bytes, dtype, shape, scales);
        Tensor s = scales == null ? null : scales.backend() == this ? scales : transfer(scales);
        return Tensor.borrowed(this, HostStorage.borrow(bytes, bytes), 0, shape, dtype, s);
    }

    @Override
    public float[] toFloatArray(Tensor t) {
        int n = Math.toIntExact(t.numel());
        float[] out = new float[n];
        MemorySegment seg = segment(t);
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(seg, F32, 0, out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(seg.getAtIndex(I16, i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = DType.bf16ToF32(seg.getAtIndex(I16, i));
                }
            }
            case I8 -> {
                float[] sc = t.scales().toFloatArray();
                long perRow = t.numel() / t.dim(0);
                for (int i = 0; i < n; i++) {
                    out[i] = seg.get(ValueLayout.JAVA_BYTE, i) * sc[(int) (i / perRow)];
                }
            }
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = seg.getAtIndex(I32, i);
                }
            }
            case I64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = seg.getAtIndex(I64, i);
                }
            }
        }
        return out;
    }

    @Override
    public long[] toLongArray(Tensor t) {
        OpShapes.toLongArray(t);
        int n = Math.toIntExact(t.numel());
        long[] out = new long[n];
        MemorySegment seg = segment(t);
        switch (t.dtype()) {
            case I64 -> MemorySegment.copy(seg, I64, 0, out, 0, n);
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = seg.getAtIndex(I32, i);
                }
            }
        }
        return out;
    }

    @Override
    public Tensor transfer(Tensor t) {
        if (t.backend() instanceof CpuBackendBase) {
            // Same memory space: share the storage.
            return Tensor.borrowed(this, t.storage(), t.byteOffset(), t.shape(), t.dtype(),
                    t.scales() == null ? null : transfer(t.scales()));
        }
        return switch (t.dtype()) {
            case F32 -> fromArray(t.toFloatArray(), t.shape());
            case I64, I32 -> fromArray(t.toLongArray(), t.shape());
            default -> cast(fromArray(t.toFloatArray(), t.shape()), t.dtype());
        };
    }

    @Override
    public Tensor cast(Tensor x, DType dtype) {
        if (x.dtype() == dtype) {
            return x;
        }
        float[] v = toFloatArray(x);
        switch (dtype) {
            case F32:
                return fromArray(v, x.shape());
            case F16, BF16: {
                Tensor out = empty(dtype, x.shape());
                MemorySegment seg = segment(out);
                for (int i = 0; i < v.length; i++) {
                    seg.setAtIndex(I16, i, dtype == DType.F16 ? DType.f32ToF16(v[i]) : DType.f32ToBf16(v[i]));
                }
                return out;
            }
            default:
                throw new IllegalArgumentException("cast from " + x.dtype() + " to " + dtype + " is not supported");
        }
    }

    // ------------------------------------------------ data movement, shared by the CPU backends

    @Override
    public Tensor concat(List<Tensor> parts, int dim) {
        return CpuDataMovement.concat(this, parts, dim);
    }

    @Override
    public Tensor slice(Tensor x, int dim, int start, int end) {
        return CpuDataMovement.slice(this, x, dim, start, end);
    }

    @Override
    public Tensor permute(Tensor x, int... perm) {
        return CpuDataMovement.permute(this, x, perm);
    }

    @Override
    public Tensor upsampleNearest(Tensor x, int outH, int outW) {
        return CpuDataMovement.upsampleNearest(this, x, outH, outW);
    }

    @Override
    public Tensor pad(Tensor x, int[] pads, float value) {
        return CpuDataMovement.pad(this, x, pads, value);
    }

    @Override
    public Tensor embedding(Tensor ids, Tensor table) {
        return CpuDataMovement.embedding(this, ids, table);
    }

    /** The tensor's elements as a segment starting at element 0. */
    public static MemorySegment segment(Tensor t) {
        if (!(t.storage() instanceof HostStorage hs)) {
            throw new IllegalArgumentException(t + " is not in host memory");
        }
        return hs.segment().asSlice(t.byteOffset(), t.byteSize());
    }

    /**
     * The backing array of an F32 heap tensor and its element offset, for kernels that want plain
     * array access; null when the tensor is not heap F32 (e.g. a mapped weight).
     */
    public static float[] heapArray(Tensor t) {
        if (t.dtype() == DType.F32 && t.storage() instanceof HostStorage hs && t.byteOffset() % 4 == 0) {
            return hs.floats();
        }
        return null;
    }

    /** Element offset of {@link #heapArray} data. */
    public static int heapOffset(Tensor t) {
        return Math.toIntExact(t.byteOffset() / 4);
    }

    /**
     * The elements as a float array: the backing array itself when {@code t} is heap F32 at
     * offset 0 with exactly its size (do not write to it), else a widened copy.
     */
    public static float[] floats(Tensor t) {
        float[] a = heapArray(t);
        if (a != null && t.byteOffset() == 0 && a.length == t.numel()) {
            return a;
        }
        return t.backend().toFloatArray(t);
    }

    @Override
    public String toString() {
        return name();
    }
}
