package org.euterpe.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * The single statement of each {@link Backend} op's shape (and operand dtype) contract: every
 * backend calls these checks before it computes, so all of them refuse the same inputs with the
 * same IllegalArgumentException, naming the shapes, and derive the same output shapes and
 * strides. A backend adds only its own device limits (a maximum rank or head dim) on top.
 */
public final class OpShapes {
    private OpShapes() {
    }

    // ---------------------------------------------------------------- memory

    /** {@link Backend#zeros}: I8 needs per-row scales, so it cannot be created empty. */
    public static void zeros(DType dtype) {
        if (dtype == DType.I8) {
            throw new IllegalArgumentException("I8 tensors are weights: create them with fromHost and their scales");
        }
    }

    /** {@link Backend#fromArray}: exactly one value per element. */
    public static void fromArray(int length, Shape shape) {
        if (length != shape.numel()) {
            throw new IllegalArgumentException(length + " values do not fill shape " + shape);
        }
    }

    /** {@link Backend#fromHost}: the bytes hold the shape, and I8 (only) has {@code [dim 0]} scales. */
    public static void fromHost(MemorySegment bytes, DType dtype, Shape shape, Tensor scales) {
        if (bytes.byteSize() != shape.numel() * dtype.byteSize()) {
            throw new IllegalArgumentException("host data of " + bytes.byteSize() + " bytes does not hold " + shape
                    + " " + dtype);
        }
        if ((dtype == DType.I8) != (scales != null)) {
            throw new IllegalArgumentException("scales are required for I8 and only for I8, got " + dtype);
        }
        if (scales != null && (scales.rank() != 1 || scales.dim(0) != shape.dim(0))) {
            throw new IllegalArgumentException("I8 scales " + scales.shape() + " must be [" + shape.dim(0) + "]");
        }
    }

    /** {@link Backend#toLongArray}: only integer tensors. */
    public static void toLongArray(Tensor t) {
        if (t.dtype() != DType.I64 && t.dtype() != DType.I32) {
            throw new IllegalArgumentException("toLongArray needs an integer tensor, got " + t.dtype());
        }
    }

    // ---------------------------------------------------------------- linear algebra

    /**
     * Sizes of a batched GEMM: {@code batches} products of {@code [m, k] x [k, n]}; with
     * {@code sharedB} one rank-2 b serves every batch entry.
     */
    public record Gemm(int m, int n, int k, int batches, boolean sharedB, Shape out) {
    }

    /** {@link Backend#matmul}. */
    public static Gemm matmul(Tensor a, Tensor b, boolean transA, boolean transB, Tensor bias, Tensor c) {
        if (a.rank() < 2 || b.rank() < 2) {
            throw new IllegalArgumentException("matmul needs rank >= 2 operands, got a " + a.shape() + " b "
                    + b.shape());
        }
        int ra = a.rank();
        int m = transA ? a.dim(ra - 1) : a.dim(ra - 2);
        int k = transA ? a.dim(ra - 2) : a.dim(ra - 1);
        int rb = b.rank();
        int kb = transB ? b.dim(rb - 1) : b.dim(rb - 2);
        int n = transB ? b.dim(rb - 2) : b.dim(rb - 1);
        int[] batchDims = Arrays.copyOf(a.shape().dims(), ra - 2);
        boolean sharedB = rb == 2;
        if (k != kb || (!sharedB && !Arrays.equals(batchDims, Arrays.copyOf(b.shape().dims(), rb - 2)))) {
            throw new IllegalArgumentException("matmul shapes do not agree: a " + a.shape() + (transA ? "^T" : "")
                    + " b " + b.shape() + (transB ? "^T" : ""));
        }
        int[] outDims = Arrays.copyOf(batchDims, ra);
        outDims[ra - 2] = m;
        outDims[ra - 1] = n;
        Shape out = Shape.of(outDims);
        checkVector("matmul bias", bias, n);
        if (c != null && !c.shape().equals(out)) {
            throw new IllegalArgumentException("matmul c " + c.shape() + " does not match the result " + out);
        }
        int batches = Math.toIntExact(a.shape().outer(ra - 2));
        return new Gemm(m, n, k, batches, sharedB, out);
    }

    /** {@link Backend#linear}: x {@code [..., in]}, weight {@code [out, in]}; returns {@code [..., out]}. */
    public static Shape linear(Tensor x, Tensor weight, Tensor bias) {
        if (x.rank() < 1 || weight.rank() != 2 || x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("linear: x " + x.shape() + " does not match weight " + weight.shape()
                    + " [out, in]");
        }
        checkVector("linear bias", bias, weight.dim(0));
        return x.shape().with(x.rank() - 1, weight.dim(0));
    }

    /**
     * A convolution as a 2-D one, with per-dim stride, padding and dilation (h, w): conv1d is a
     * conv2d over a height of 1 with a kernel height of 1. {@code out} has the rank of x.
     */
    public record Conv(int batch, int cin, int h, int w, int cout, int kh, int kw, int oh, int ow, int sh, int sw,
            int ph, int pw, int dh, int dw, Shape out) {
    }

    /** {@link Backend#conv2d}. */
    public static Conv conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        if (x.rank() != 4 || weight.rank() != 4) {
            throw new IllegalArgumentException("conv2d needs x [batch, in, h, w] and weight [out, in, kh, kw], got x "
                    + x.shape() + " weight " + weight.shape());
        }
        checkConvParams("conv2d", stride, padding, dilation);
        checkChannels("conv2d", x, weight, bias);
        int oh = convOut(x.dim(2), weight.dim(2), stride, padding, dilation);
        int ow = convOut(x.dim(3), weight.dim(3), stride, padding, dilation);
        checkOutput("conv2d", x, weight, stride, padding, dilation, oh, ow);
        return new Conv(x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0), weight.dim(2), weight.dim(3), oh, ow,
                stride, stride, padding, padding, dilation, dilation, Shape.of(x.dim(0), weight.dim(0), oh, ow));
    }

    /** {@link Backend#conv1d}. */
    public static Conv conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        if (x.rank() != 3 || weight.rank() != 3) {
            throw new IllegalArgumentException("conv1d needs x [batch, in, length] and weight [out, in, k], got x "
                    + x.shape() + " weight " + weight.shape());
        }
        checkConvParams("conv1d", stride, padding, dilation);
        checkChannels("conv1d", x, weight, bias);
        int ow = convOut(x.dim(2), weight.dim(2), stride, padding, dilation);
        checkOutput("conv1d", x, weight, stride, padding, dilation, 1, ow);
        return new Conv(x.dim(0), x.dim(1), 1, x.dim(2), weight.dim(0), 1, weight.dim(2), 1, ow, 1, stride, 0,
                padding, 1, dilation, Shape.of(x.dim(0), weight.dim(0), ow));
    }

    /**
     * {@link Backend#convTranspose1d}: x {@code [batch, in, length]}, weight {@code [in, out, k]};
     * returns {@code [batch, out, outLength]}.
     */
    public static Shape convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int outputPadding, int dilation) {
        if (x.rank() != 3 || weight.rank() != 3 || weight.dim(0) != x.dim(1)) {
            throw new IllegalArgumentException("convTranspose1d needs x [batch, in, length] and weight [in, out, k],"
                    + " got x " + x.shape() + " weight " + weight.shape());
        }
        checkConvParams("convTranspose1d", stride, padding, dilation);
        if (outputPadding < 0 || outputPadding >= Math.max(stride, dilation)) {
            throw new IllegalArgumentException("convTranspose1d: outputPadding " + outputPadding
                    + " must be >= 0 and smaller than stride " + stride + " or dilation " + dilation);
        }
        int outLen = (x.dim(2) - 1) * stride - 2 * padding + dilation * (weight.dim(2) - 1) + outputPadding + 1;
        if (outLen < 1) {
            throw new IllegalArgumentException("convTranspose1d: x " + x.shape() + " with weight " + weight.shape()
                    + ", stride " + stride + ", padding " + padding + " gives output length " + outLen);
        }
        checkVector("convTranspose1d bias", bias, weight.dim(1));
        return Shape.of(x.dim(0), weight.dim(1), outLen);
    }

    private static void checkChannels(String op, Tensor x, Tensor weight, Tensor bias) {
        if (weight.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException(op + ": weight " + weight.shape() + " expects " + weight.dim(1)
                    + " input channels, x " + x.shape() + " has " + x.dim(1));
        }
        checkVector(op + " bias", bias, weight.dim(0));
    }

    private static void checkOutput(String op, Tensor x, Tensor weight, int stride, int padding, int dilation, int oh,
            int ow) {
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " is too small for kernel "
                    + weight.shape() + " with stride " + stride + ", padding " + padding + ", dilation " + dilation);
        }
    }

    /** Output length of a convolution along one dim; 0 when the kernel does not fit. */
    private static int convOut(int in, int k, int stride, int padding, int dilation) {
        int span = in + 2 * padding - dilation * (k - 1) - 1;
        return span < 0 ? 0 : span / stride + 1;
    }

    private static void checkConvParams(String op, int stride, int padding, int dilation) {
        if (stride < 1 || padding < 0 || dilation < 1) {
            throw new IllegalArgumentException(op + ": stride " + stride + " and dilation " + dilation
                    + " must be >= 1 and padding " + padding + " >= 0");
        }
    }

    // ---------------------------------------------------------------- normalisation

    /** {@link Backend#groupNorm}: x {@code [batch, channels, ...]}, channels divisible by groups. */
    public static void groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta) {
        if (x.rank() < 2 || groups < 1 || x.dim(1) % groups != 0) {
            throw new IllegalArgumentException("groupNorm: x " + x.shape() + " [batch, channels, ...] cannot be split"
                    + " into " + groups + " groups");
        }
        checkVector("groupNorm gamma", gamma, x.dim(1));
        checkVector("groupNorm beta", beta, x.dim(1));
    }

    /** {@link Backend#layerNorm}; returns the normalised (last) dim. */
    public static int layerNorm(Tensor x, Tensor gamma, Tensor beta) {
        int d = lastDim("layerNorm", x);
        checkVector("layerNorm gamma", gamma, d);
        checkVector("layerNorm beta", beta, d);
        return d;
    }

    /**
     * Sizes of an attention call; {@code maskStrides} are the mask's element strides over
     * {@code [batch, heads, lq, lk]} (0 along broadcast dims; all 0 without a mask).
     */
    public record Attention(int batch, int heads, int lq, int lk, int d, int dv, long[] maskStrides, Shape out) {
        /** {@link #maskStrides} as ints, for kernels that index with int. */
        public int[] maskStridesInt() {
            return Arrays.stream(maskStrides).mapToInt(Math::toIntExact).toArray();
        }
    }

    /** {@link Backend#attention}. */
    public static Attention attention(Tensor q, Tensor k, Tensor v, Tensor mask) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) {
            throw new IllegalArgumentException("attention needs rank-4 q, k, v, got q " + q.shape() + " k " + k.shape()
                    + " v " + v.shape());
        }
        int batch = q.dim(0);
        int heads = q.dim(1);
        int lq = q.dim(2);
        int d = q.dim(3);
        int lk = k.dim(2);
        int dv = v.dim(3);
        if (k.dim(0) != batch || k.dim(1) != heads || k.dim(3) != d || v.dim(0) != batch || v.dim(1) != heads
                || v.dim(2) != lk) {
            throw new IllegalArgumentException("attention shapes do not agree: q " + q.shape() + " k " + k.shape()
                    + " v " + v.shape());
        }
        if (mask != null && mask.rank() != 4) {
            throw new IllegalArgumentException("attention mask " + mask.shape() + " must be rank 4");
        }
        long[] maskStrides = mask == null ? new long[4]
                : broadcastStrides(mask.shape(), new int[] {batch, heads, lq, lk}, "attention mask");
        return new Attention(batch, heads, lq, lk, d, dv, maskStrides, Shape.of(batch, heads, lq, dv));
    }

    // ---------------------------------------------------------------- element-wise

    /** The result shape of a broadcasting binary op and each operand's element strides over it. */
    public record Broadcast(Shape out, long[] stridesA, long[] stridesB) {
    }

    /** {@link Backend#binary}: numpy broadcasting. */
    public static Broadcast broadcast(BinaryOp op, Tensor a, Tensor b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] outDims = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = dimFromEnd(a.shape(), rank - i);
            int db = dimFromEnd(b.shape(), rank - i);
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("binary " + op + ": shapes " + a.shape() + " and " + b.shape()
                        + " do not broadcast");
            }
            outDims[i] = da == 1 ? db : da;
        }
        return new Broadcast(Shape.of(outDims), broadcastStrides(a.shape(), outDims, "binary operand"),
                broadcastStrides(b.shape(), outDims, "binary operand"));
    }

    private static int dimFromEnd(Shape s, int fromEnd) {
        return fromEnd <= s.rank() ? s.dim(s.rank() - fromEnd) : 1;
    }

    /**
     * Strides (in elements) for reading {@code s} as if broadcast to {@code target}, aligned at
     * the right: 0 along dims where {@code s} is 1 or absent.
     */
    public static long[] broadcastStrides(Shape s, int[] target, String what) {
        if (s.rank() > target.length) {
            throw new IllegalArgumentException(what + " " + s + " has more dims than " + Arrays.toString(target));
        }
        long[] own = s.strides();
        long[] out = new long[target.length];
        int shift = target.length - s.rank();
        for (int i = 0; i < s.rank(); i++) {
            int d = s.dim(i);
            if (d != 1 && d != target[i + shift]) {
                throw new IllegalArgumentException(what + " " + s + " does not broadcast to "
                        + Arrays.toString(target));
            }
            out[i + shift] = d == 1 ? 0 : own[i];
        }
        return out;
    }

    // ---------------------------------------------------------------- data movement

    /** A concatenation: the normalised dim and the result shape. */
    public record Concat(int dim, Shape out) {
    }

    /** {@link Backend#concat}: same dtype and rank, the same dims but along {@code dim}. */
    public static Concat concat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("concat of no tensors");
        }
        Tensor first = parts.getFirst();
        int d = first.shape().axis(dim);
        int total = 0;
        for (Tensor p : parts) {
            checkMovable("concat", p);
            if (p.dtype() != first.dtype() || p.rank() != first.rank()
                    || !p.shape().with(d, 0).equals(first.shape().with(d, 0))) {
                throw new IllegalArgumentException("concat along dim " + d + ": " + p.shape() + " " + p.dtype()
                        + " does not match " + first.shape() + " " + first.dtype());
            }
            total += p.dim(d);
        }
        return new Concat(d, first.shape().with(d, total));
    }

    /** {@link Backend#slice}; returns the normalised dim. */
    public static int slice(Tensor x, int dim, int start, int end) {
        checkMovable("slice", x);
        int d = x.shape().axis(dim);
        if (start < 0 || end > x.dim(d) || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") out of range for dim " + d + " of "
                    + x.shape());
        }
        return d;
    }

    /** A permutation: the result shape and the input stride (elements) of each output dim. */
    public record Permute(Shape out, long[] srcStrides) {
    }

    /** {@link Backend#permute}. */
    public static Permute permute(Tensor x, int[] perm) {
        checkMovable("permute", x);
        int rank = x.rank();
        if (perm.length != rank) {
            throw new IllegalArgumentException("permute " + Arrays.toString(perm) + " does not fit " + x.shape());
        }
        boolean[] seen = new boolean[rank];
        int[] outDims = new int[rank];
        long[] inStrides = x.shape().strides();
        long[] srcStrides = new long[rank];
        for (int i = 0; i < rank; i++) {
            int p = perm[i];
            if (p < 0 || p >= rank || seen[p]) {
                throw new IllegalArgumentException("permute " + Arrays.toString(perm) + " is not a permutation of the"
                        + " dims of " + x.shape());
            }
            seen[p] = true;
            outDims[i] = x.dim(p);
            srcStrides[i] = inStrides[p];
        }
        return new Permute(Shape.of(outDims), srcStrides);
    }

    /** {@link Backend#upsampleNearest}: x {@code [batch, channels, h, w]}; returns the result shape. */
    public static Shape upsampleNearest(Tensor x, int outH, int outW) {
        checkMovable("upsampleNearest", x);
        if (x.rank() != 4 || outH < 1 || outW < 1 || x.dim(2) < 1 || x.dim(3) < 1) {
            throw new IllegalArgumentException("upsampleNearest: cannot resize " + x.shape()
                    + " [batch, channels, h, w] to " + outH + "x" + outW);
        }
        return Shape.of(x.dim(0), x.dim(1), outH, outW);
    }

    /** Constant padding: the pad before each dim (negative: cropped) and the result shape. */
    public record Pad(int[] before, Shape out) {
    }

    /** {@link Backend#pad}: pairs of pads in torch's order (last dim first). */
    public static Pad pad(Tensor x, int[] pads) {
        checkMovable("pad", x);
        int rank = x.rank();
        if (pads.length % 2 != 0 || pads.length > 2 * rank) {
            throw new IllegalArgumentException("pad: " + Arrays.toString(pads) + " is not pairs of pads for at most"
                    + " the " + rank + " dims of " + x.shape());
        }
        int[] before = new int[rank];
        int[] outDims = x.shape().dims();
        for (int i = 0; i < pads.length / 2; i++) {
            int d = rank - 1 - i;
            before[d] = pads[2 * i];
            outDims[d] += pads[2 * i] + pads[2 * i + 1];
            if (outDims[d] < 0) {
                throw new IllegalArgumentException("pad " + Arrays.toString(pads) + " crops dim " + d + " of "
                        + x.shape() + " below zero");
            }
        }
        return new Pad(before, Shape.of(outDims));
    }

    /** {@link Backend#embedding}: ids I64/I32, table {@code [vocab, d]}; returns {@code [ids..., d]}. */
    public static Shape embedding(Tensor ids, Tensor table) {
        if (ids.dtype() != DType.I64 && ids.dtype() != DType.I32) {
            throw new IllegalArgumentException("embedding ids must be I64 or I32, got " + ids.dtype());
        }
        if (table.rank() != 2 || !table.dtype().isFloating() && table.dtype() != DType.I8) {
            throw new IllegalArgumentException("embedding table must be [vocab, d] of a float type, got "
                    + table.shape() + " " + table.dtype());
        }
        int[] outDims = Arrays.copyOf(ids.shape().dims(), ids.rank() + 1);
        outDims[ids.rank()] = table.dim(1);
        return Shape.of(outDims);
    }

    /** The embedding ids' values: each a row of the table. */
    public static void embeddingIds(long[] ids, Tensor table) {
        int vocab = table.dim(0);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("embedding id " + ids[i] + " at position " + i + " is outside the"
                        + " table of " + vocab + " rows " + table.shape());
            }
        }
    }

    /**
     * The data-movement ops move raw elements, so they refuse I8, whose per-row scales would not
     * follow the rows around.
     */
    public static void checkMovable(String op, Tensor x) {
        if (x.dtype() == DType.I8) {
            throw new IllegalArgumentException(op + " of an I8 tensor " + x.shape()
                    + " is not supported (its per-row scales would not follow); cast it to F32 first");
        }
    }

    // ---------------------------------------------------------------- reductions

    /** {@link Backend#sum} and {@link Backend#mean} over normalised {@code axis}: the result shape. */
    public static Shape reduced(Shape s, int axis, boolean keepDim) {
        if (keepDim) {
            return s.with(axis, 1);
        }
        int[] dims = s.dims();
        int[] squeezed = new int[dims.length - 1];
        System.arraycopy(dims, 0, squeezed, 0, axis);
        System.arraycopy(dims, axis + 1, squeezed, axis, dims.length - axis - 1);
        return Shape.of(squeezed);
    }

    // ---------------------------------------------------------------- fixed-kernel 2x resampling

    /** The geometry of {@link Backend#downsample1d} / {@link Backend#upsample1d}. */
    public record Resample1d(int rows, int length, int k, int pad, int outLength) {
    }

    /** {@link Backend#downsample1d}: reflect pad {@code k/2 - 1}, stride-2 correlation. */
    public static Resample1d downsample1d(Tensor x, Tensor kernel) {
        int k = resampleKernel("downsample1d", x, kernel);
        int p = k / 2 - 1;
        checkReflect("downsample1d", x, p);
        return new Resample1d(x.dim(0) * x.dim(1), x.dim(2), k, p, (x.dim(2) + 2 * p - k) / 2 + 1);
    }

    /** {@link Backend#upsample1d}: reflect pad {@code (k/2 - 1 + 1) / 2}, stride-2 transposed convolution. */
    public static Resample1d upsample1d(Tensor x, Tensor kernel) {
        int k = resampleKernel("upsample1d", x, kernel);
        int q = k / 4;
        checkReflect("upsample1d", x, q);
        return new Resample1d(x.dim(0) * x.dim(1), x.dim(2), k, q, 2 * (x.dim(2) + 2 * q) - k);
    }

    private static int resampleKernel(String op, Tensor x, Tensor kernel) {
        if (x.rank() != 3 || x.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + " needs an F32 x [batch, channels, length], got " + x.shape()
                    + " " + x.dtype());
        }
        if (kernel.rank() != 1 || kernel.dtype() != DType.F32 || kernel.dim(0) < 2 || kernel.dim(0) % 2 != 0) {
            throw new IllegalArgumentException(op + " needs an F32 kernel [k] with k even and >= 2, got "
                    + kernel.shape() + " " + kernel.dtype());
        }
        return kernel.dim(0);
    }

    private static void checkReflect(String op, Tensor x, int pad) {
        if (x.dim(2) <= pad) {
            throw new IllegalArgumentException(op + ": reflect padding by " + pad + " needs a length above " + pad
                    + ", got x " + x.shape());
        }
    }

    // ---------------------------------------------------------------- shared rules

    /** An optional per-channel operand: null, or {@code [n]}. */
    public static void checkVector(String what, Tensor t, int n) {
        if (t != null && (t.rank() != 1 || t.dim(0) != n)) {
            throw new IllegalArgumentException(what + " " + t.shape() + " must be [" + n + "]");
        }
    }

    /** The last dim of a tensor of rank >= 1 with at least one element per row (the row ops). */
    public static int lastDim(String op, Tensor x) {
        if (x.rank() < 1 || x.dim(-1) == 0) {
            throw new IllegalArgumentException(op + " needs a non-empty last dim, got " + x.shape());
        }
        return x.dim(-1);
    }

    // ---------------------------------------------------------------- gated activation (Stable Audio DiT)

    /** {@link Backend#swiglu}: returns n, half the (even, non-empty) last dim. */
    public static int swiglu(Tensor x) {
        int d = lastDim("swiglu", x);
        if (d % 2 != 0) {
            throw new IllegalArgumentException("swiglu: the last dim of " + x.shape() + " must be even (value, gate)");
        }
        return d / 2;
    }

    // ---------------------------------------------------------------- audio activations (Stable Audio)

    /** {@link Backend#snake}: x is {@code [batch, channels, length]}, both parameters {@code [channels]}. */
    public static void snake(Tensor x, Tensor alpha, Tensor invBeta) {
        if (x.rank() != 3) {
            throw new IllegalArgumentException("snake: x " + x.shape() + " must be [batch, channels, length]");
        }
        if (alpha == null || invBeta == null) {
            throw new IllegalArgumentException("snake: alpha and invBeta are required");
        }
        checkVector("snake alpha", alpha, x.dim(1));
        checkVector("snake invBeta", invBeta, x.dim(1));
    }

    /** {@link Backend#rmsNorm}; returns the normalised (last) dim. */
    public static int rmsNorm(Tensor x, Tensor weight) {
        int d = lastDim("rmsNorm", x);
        if (weight == null) {
            throw new IllegalArgumentException("rmsNorm: weight is required");
        }
        checkVector("rmsNorm weight", weight, d);
        return d;
    }

    /** {@link Backend#rotary}: returns the rotated width {@code r}. */
    public static int rotary(Tensor x, Tensor cos, Tensor sin) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("rotary: x " + x.shape() + " must be [batch, heads, length, headDim]");
        }
        if (cos == null || sin == null || cos.rank() != 2 || !cos.shape().equals(sin.shape())
                || cos.dim(0) != x.dim(2)) {
            throw new IllegalArgumentException("rotary: cos " + (cos == null ? null : cos.shape()) + " and sin "
                    + (sin == null ? null : sin.shape()) + " must both be [" + x.dim(2) + ", r]");
        }
        int r = cos.dim(1);
        if (r < 2 || r % 2 != 0 || r > x.dim(3)) {
            throw new IllegalArgumentException("rotary: the rotated width " + r + " must be even, at least 2 and at"
                    + " most the head dim " + x.dim(3));
        }
        return r;
    }
}
