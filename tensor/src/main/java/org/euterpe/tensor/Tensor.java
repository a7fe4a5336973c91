package org.euterpe.tensor;

import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array on one backend: contiguous, row-major, of one {@link DType}.
 *
 * <p>A tensor is its storage, a byte offset into it, a shape and a dtype. Reshapes and slices
 * along the leading dim are views (same storage, no copy); everything else is a backend op
 * that returns a new tensor. Ops are methods here so model code reads as math, e.g.
 * {@code x.linear(w, b).gelu()}; each one delegates to {@link #backend()}.
 *
 * <p>Ownership: a tensor made by an op belongs to the innermost open {@link Scope} of the
 * thread (or to the caller when none is open). {@link #close()} frees an owning tensor's
 * storage at once; closing a view does nothing.
 */
public final class Tensor implements AutoCloseable {
    private final Backend backend;
    private final Storage storage;
    private final long byteOffset;
    private final Shape shape;
    private final DType dtype;
    private final Tensor scales;
    private final boolean owner;

    private Tensor(Backend backend, Storage storage, long byteOffset, Shape shape, DType dtype, Tensor scales,
            boolean owner) {
        if (dtype == DType.I8 && scales == null) {
            throw new IllegalArgumentException("an I8 tensor needs per-channel scales");
        }
        if (byteOffset + shape.numel() * dtype.byteSize() > storage.byteSize()) {
            throw new IllegalArgumentException("tensor " + shape + " " + dtype + " at byte " + byteOffset
                    + " does not fit its storage of " + storage.byteSize() + " bytes");
        }
        this.backend = backend;
        this.storage = storage;
        this.byteOffset = byteOffset;
        this.shape = shape;
        this.dtype = dtype;
        this.scales = scales;
        this.owner = owner;
    }

    /**
     * A tensor that owns freshly allocated storage; registers it with the current scope. For
     * backends only.
     */
    public static Tensor owning(Backend backend, Storage storage, Shape shape, DType dtype, Tensor scales) {
        Tensor t = new Tensor(backend, storage, 0, shape, dtype, scales, true);
        Scope.track(storage);
        return t;
    }

    /** A tensor over storage someone else owns (a mapped file, a parent tensor). For backends only. */
    public static Tensor borrowed(Backend backend, Storage storage, long byteOffset, Shape shape, DType dtype,
            Tensor scales) {
        return new Tensor(backend, storage, byteOffset, shape, dtype, scales, false);
    }

    // ---------------------------------------------------------------- properties

    public Backend backend() {
        return backend;
    }

    public Storage storage() {
        if (storage.isClosed()) {
            throw new IllegalStateException("tensor " + shape + " used after its storage was freed");
        }
        return storage;
    }

    /** Offset of element 0 in the storage, in bytes. */
    public long byteOffset() {
        return byteOffset;
    }

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return dtype;
    }

    /** Per-dim-0 F32 scales of an I8 tensor; null for other dtypes. */
    public Tensor scales() {
        return scales;
    }

    public int rank() {
        return shape.rank();
    }

    public int dim(int i) {
        return shape.dim(i);
    }

    public long numel() {
        return shape.numel();
    }

    public long byteSize() {
        return numel() * dtype.byteSize();
    }

    // ---------------------------------------------------------------- views

    /** Same elements, new shape (one dim may be -1). A view. */
    public Tensor reshape(int... dims) {
        return new Tensor(backend, storage, byteOffset, shape.reshape(dims), dtype, scales, false);
    }

    /**
     * For backends: an op's freshly allocated result under another shape, still owning its
     * storage, so that a caller's {@link #close} frees it at once (a {@link #reshape} view would
     * leave it to the enclosing scope). {@code this} must own its storage and is not used after.
     */
    public Tensor reshapeResult(int... dims) {
        if (!owner) {
            throw new IllegalStateException("reshapeResult of a tensor that does not own its storage: " + this);
        }
        return new Tensor(backend, storage, byteOffset, shape.reshape(dims), dtype, scales, true);
    }

    /** Whether {@link #close} frees this tensor's storage (false for views and borrowed memory). */
    public boolean ownsStorage() {
        return owner;
    }

    /**
     * Elements {@code [start, end)} along {@code dim}: a view when every dim before {@code dim}
     * is 1 (the range is contiguous), otherwise a copy made by the backend.
     */
    public Tensor slice(int dim, int start, int end) {
        int d = shape.axis(dim);
        int size = shape.dim(d);
        if (start < 0 || end > size || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") out of range for dim " + d
                    + " of " + shape);
        }
        if (shape.outer(d) == 1 && dtype != DType.I8) {
            long off = byteOffset + (long) start * shape.inner(d) * dtype.byteSize();
            return new Tensor(backend, storage, off, shape.with(d, end - start), dtype, null, false);
        }
        return backend.slice(this, d, start, end);
    }

    /** Entry {@code i} along dim 0, without that dim. A view. */
    public Tensor select(int i) {
        int[] rest = Arrays.copyOfRange(shape.dims(), 1, rank());
        return slice(0, i, i + 1).reshape(rest);
    }

    /** {@code n} equal parts along {@code dim}. */
    public List<Tensor> chunk(int n, int dim) {
        int size = shape.dim(dim);
        if (size % n != 0) {
            throw new IllegalArgumentException("cannot split dim " + dim + " of " + shape + " into " + n);
        }
        int step = size / n;
        Tensor[] parts = new Tensor[n];
        for (int i = 0; i < n; i++) {
            parts[i] = slice(dim, i * step, (i + 1) * step);
        }
        return List.of(parts);
    }

    // ---------------------------------------------------------------- ops (delegates)

    public Tensor matmul(Tensor b) {
        return backend.matmul(this, b, false, false, 1f, null, 0f, null);
    }

    public Tensor linear(Tensor weight, Tensor bias) {
        return backend.linear(this, weight, bias);
    }

    public Tensor conv2d(Tensor weight, Tensor bias, int stride, int padding) {
        return backend.conv2d(this, weight, bias, stride, padding, 1);
    }

    public Tensor conv1d(Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        return backend.conv1d(this, weight, bias, stride, padding, dilation);
    }

    public Tensor groupNorm(int groups, Tensor gamma, Tensor beta, float eps) {
        return backend.groupNorm(this, groups, gamma, beta, eps, false);
    }

    public Tensor groupNormSilu(int groups, Tensor gamma, Tensor beta, float eps) {
        return backend.groupNorm(this, groups, gamma, beta, eps, true);
    }

    public Tensor layerNorm(Tensor gamma, Tensor beta, float eps) {
        return backend.layerNorm(this, gamma, beta, eps);
    }

    public Tensor softmax() {
        return backend.softmax(this);
    }

    public Tensor silu() {
        return backend.unary(UnaryOp.SILU, this, 0f);
    }

    public Tensor gelu() {
        return backend.unary(UnaryOp.GELU, this, 0f);
    }

    public Tensor relu() {
        return backend.unary(UnaryOp.RELU, this, 0f);
    }

    public Tensor leakyRelu(float slope) {
        return backend.unary(UnaryOp.LEAKY_RELU, this, slope);
    }

    public Tensor tanh() {
        return backend.unary(UnaryOp.TANH, this, 0f);
    }

    public Tensor exp() {
        return backend.unary(UnaryOp.EXP, this, 0f);
    }

    public Tensor add(Tensor o) {
        return backend.binary(BinaryOp.ADD, this, o);
    }

    public Tensor sub(Tensor o) {
        return backend.binary(BinaryOp.SUB, this, o);
    }

    public Tensor mul(Tensor o) {
        return backend.binary(BinaryOp.MUL, this, o);
    }

    public Tensor div(Tensor o) {
        return backend.binary(BinaryOp.DIV, this, o);
    }

    public Tensor add(float s) {
        return backend.scalar(BinaryOp.ADD, this, s);
    }

    public Tensor mul(float s) {
        return backend.scalar(BinaryOp.MUL, this, s);
    }

    public Tensor div(float s) {
        return backend.scalar(BinaryOp.DIV, this, s);
    }

    public Tensor permute(int... perm) {
        return backend.permute(this, perm);
    }

    /** Swaps two dims (a copy). */
    public Tensor transpose(int d0, int d1) {
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        int a = shape.axis(d0);
        int b = shape.axis(d1);
        perm[a] = b;
        perm[b] = a;
        return backend.permute(this, perm);
    }

    public Tensor upsampleNearest(int outH, int outW) {
        return backend.upsampleNearest(this, outH, outW);
    }

    public Tensor pad(int[] pads, float value) {
        return backend.pad(this, pads, value);
    }

    public Tensor sum(int dim, boolean keepDim) {
        return backend.sum(this, dim, keepDim);
    }

    public Tensor mean(int dim, boolean keepDim) {
        return backend.mean(this, dim, keepDim);
    }

    public Tensor l2Normalize(float eps) {
        return backend.l2Normalize(this, eps);
    }

    public Tensor cast(DType to) {
        return to == dtype ? this : backend.cast(this, to);
    }

    /** A copy on {@code target}. */
    public Tensor to(Backend target) {
        return target.transfer(this);
    }

    // ---------------------------------------------------------------- host access

    public float[] toFloatArray() {
        return backend.toFloatArray(this);
    }

    public long[] toLongArray() {
        return backend.toLongArray(this);
    }

    /** The single element of a one-element tensor. */
    public float item() {
        if (numel() != 1) {
            throw new IllegalStateException("item() of a tensor with " + numel() + " elements " + shape);
        }
        return toFloatArray()[0];
    }

    /** Frees the storage if this tensor owns it. Idempotent. */
    @Override
    public void close() {
        if (owner) {
            storage.close();
            if (scales != null) {
                scales.close();
            }
        }
    }

    @Override
    public String toString() {
        return "Tensor" + shape + " " + dtype + " on " + backend.name();
    }
}
