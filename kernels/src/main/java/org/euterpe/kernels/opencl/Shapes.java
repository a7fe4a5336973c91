package org.euterpe.kernels.opencl;

import java.util.Arrays;
import java.util.List;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Shape checks and derived sizes of the OpenCL ops, with the reference backend's rules and
 * messages: a mismatch throws IllegalArgumentException naming the shapes.
 */
final class Shapes {
    /** The kernels take dims and strides as int8 vectors. */
    static final int MAX_RANK = 8;

    /** Sizes of a batched GEMM. */
    record Gemm(int m, int n, int k, int batches, boolean sharedB, Shape out) {
    }

    Gemm matmul(Tensor a, Tensor b, boolean transA, boolean transB, Tensor bias, Tensor c) {
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

    /** A convolution as the conv2d kernel sees it: 2-D, with per-dim stride/padding/dilation. */
    record Conv(int batch, int cin, int h, int w, int cout, int kh, int kw, int oh, int ow, int sh, int sw, int ph,
            int pw, int dh, int dw, Shape out) {
    }

    Conv conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
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

    /** conv1d as a conv2d over a height of 1 with a kernel height of 1. */
    Conv conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
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

    /** Checks a transposed convolution; returns the output length. */
    int convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding,
            int dilation) {
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
        return outLen;
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

    /** Checks attention operands; returns the mask's broadcast strides over [batch, heads, lq, lk]. */
    int[] attention(Tensor q, Tensor k, Tensor v, Tensor mask) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) {
            throw new IllegalArgumentException("attention needs rank-4 q, k, v, got q " + q.shape() + " k " + k.shape()
                    + " v " + v.shape());
        }
        int batch = q.dim(0);
        int heads = q.dim(1);
        int lk = k.dim(2);
        if (k.dim(0) != batch || k.dim(1) != heads || k.dim(3) != q.dim(3) || v.dim(0) != batch
                || v.dim(1) != heads || v.dim(2) != lk) {
            throw new IllegalArgumentException("attention shapes do not agree: q " + q.shape() + " k " + k.shape()
                    + " v " + v.shape());
        }
        if (mask == null) {
            return new int[4];
        }
        if (mask.rank() != 4) {
            throw new IllegalArgumentException("attention mask " + mask.shape() + " must be rank 4");
        }
        return broadcastStrides(mask.shape(), new int[] {batch, heads, q.dim(2), lk}, "attention mask");
    }

    /** The result shape of a broadcasting binary op and each operand's strides over it. */
    record Broadcast(Shape out, int[] stridesA, int[] stridesB) {
    }

    static Broadcast broadcast(BinaryOp op, Tensor a, Tensor b) {
        int rank = Math.max(a.rank(), b.rank());
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("binary " + op + ": rank " + rank + " exceeds " + MAX_RANK);
        }
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

    /** Strides for reading {@code s} broadcast to {@code target} (right-aligned; 0 where broadcast). */
    private static int[] broadcastStrides(Shape s, int[] target, String what) {
        if (s.rank() > target.length) {
            throw new IllegalArgumentException(what + " " + s + " has more dims than " + Arrays.toString(target));
        }
        long[] own = s.strides();
        int[] out = new int[target.length];
        int shift = target.length - s.rank();
        for (int i = 0; i < s.rank(); i++) {
            int d = s.dim(i);
            if (d != 1 && d != target[i + shift]) {
                throw new IllegalArgumentException(what + " " + s + " does not broadcast to "
                        + Arrays.toString(target));
            }
            out[i + shift] = d == 1 ? 0 : Math.toIntExact(own[i]);
        }
        return out;
    }

    /** Checks concat parts; returns the normalised dim. */
    int concat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("concat of no tensors");
        }
        Tensor first = parts.getFirst();
        int d = first.shape().axis(dim);
        for (Tensor p : parts) {
            checkMovable("concat", p);
            if (p.dtype() != first.dtype() || p.rank() != first.rank()
                    || !p.shape().with(d, 0).equals(first.shape().with(d, 0))) {
                throw new IllegalArgumentException("concat along dim " + d + ": " + p.shape() + " " + p.dtype()
                        + " does not match " + first.shape() + " " + first.dtype());
            }
        }
        return d;
    }

    /** Checks a permutation; returns the input stride of each output dim. */
    int[] permute(Tensor x, int[] perm) {
        checkMovable("permute", x);
        int rank = x.rank();
        if (perm.length != rank || rank > MAX_RANK) {
            throw new IllegalArgumentException("permute " + Arrays.toString(perm) + " does not fit " + x.shape());
        }
        boolean[] seen = new boolean[rank];
        long[] inStrides = x.shape().strides();
        int[] src = new int[rank];
        for (int i = 0; i < rank; i++) {
            int p = perm[i];
            if (p < 0 || p >= rank || seen[p]) {
                throw new IllegalArgumentException("permute " + Arrays.toString(perm) + " is not a permutation of the"
                        + " dims of " + x.shape());
            }
            seen[p] = true;
            src[i] = Math.toIntExact(inStrides[p]);
        }
        return src;
    }

    /** Checks torch-order pads; returns the pad before each dim (negative: cropped). */
    int[] pad(Tensor x, int[] pads) {
        checkMovable("pad", x);
        int rank = x.rank();
        if (pads.length % 2 != 0 || pads.length > 2 * rank || rank > MAX_RANK) {
            throw new IllegalArgumentException("pad: " + Arrays.toString(pads) + " is not pairs of pads for at most"
                    + " the " + rank + " dims of " + x.shape());
        }
        int[] before = new int[rank];
        for (int i = 0; i < pads.length / 2; i++) {
            int d = rank - 1 - i;
            before[d] = pads[2 * i];
            if (x.dim(d) + pads[2 * i] + pads[2 * i + 1] < 0) {
                throw new IllegalArgumentException("pad " + Arrays.toString(pads) + " crops dim " + d + " of "
                        + x.shape() + " below zero");
            }
        }
        return before;
    }

    static void checkMovable(String op, Tensor x) {
        if (x.dtype() == DType.I8) {
            throw new IllegalArgumentException(op + " of an I8 tensor " + x.shape()
                    + " is not supported (its per-row scales would not follow); cast it to F32 first");
        }
    }

    static void checkVector(String what, Tensor t, int n) {
        if (t != null && (t.rank() != 1 || t.dim(0) != n)) {
            throw new IllegalArgumentException(what + " " + t.shape() + " must be [" + n + "]");
        }
    }

    /** The last dim of a tensor of rank >= 1 with at least one element per row. */
    static int lastDim(String op, Tensor x) {
        if (x.rank() < 1 || x.dim(-1) == 0) {
            throw new IllegalArgumentException(op + " needs a non-empty last dim, got " + x.shape());
        }
        return x.dim(-1);
    }

    /** {@code v} padded with 1s to the 8 lanes of an int8 kernel argument. */
    static int[] pad8(int[] v) {
        int[] out = new int[MAX_RANK];
        Arrays.fill(out, 1);
        System.arraycopy(v, 0, out, 0, v.length);
        return out;
    }
}
