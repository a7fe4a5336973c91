package org.euterpe.kernels.cuda;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.HostStorage;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/**
 * The op set on an NVIDIA GPU through the CUDA driver API (JCuda), with Euterpe's own kernels
 * (kernels/src/main/cuda, shipped as PTX). {@code org.euterpe.kernels.Backends} opens it
 * reflectively through {@link #open}, so nothing touches JCuda unless a CUDA device is asked for.
 *
 * <p>Precision: by default every GEMM-like op (matmul, linear, the convolutions) runs the exact
 * f32 kernels, whatever the weight dtype (F16/BF16/I8 weights are widened exactly). With the
 * system property {@value #TENSOR_CORES_PROPERTY}{@code =true}, F16 and BF16 weights use the
 * tensor cores on compute capability 8.0+, which also rounds the activations to that 16-bit type
 * (about 3 significant digits for BF16, 5e-4 relative for F16, and F16's range of 65504).
 */
public final class CudaBackend implements Backend {
    /** System property enabling the tensor-core GEMM path for F16/BF16 weights. */
    public static final String TENSOR_CORES_PROPERTY = "euterpe.cuda.tensorCores";

    private static final int THREADS = 256;
    private static final int GEMM_TILE = 64;
    private static final int ATTENTION_ROWS_PER_BLOCK = 4;
    private static final int MAX_HEAD_DIM = 256;
    private static final int MAX_GRID_X = 1 << 20; // grid-stride kernels need no more blocks than this

    /** Why JCuda's native library failed to load, once it has; later attempts report the same. */
    private static volatile String driverFailure;

    private final CudaDevice ctx;
    private final String name;
    private final boolean tensorCores;

    /** A backend on {@code device}; {@code tensorCores} only where the device has them loaded. */
    CudaBackend(CudaDevice ctx, String name, boolean tensorCores) {
        this.ctx = ctx;
        this.name = name;
        this.tensorCores = tensorCores;
    }

    /**
     * Opens {@code cuda} (device 0) or {@code cuda:N}.
     *
     * @throws IllegalStateException with the reason when there is no driver, no such device, or
     *                               the driver is too old for the kernels
     */
    public static CudaBackend open(String device) {
        int ordinal = ordinal(device);
        if (driverFailure != null) {
            throw new IllegalStateException(driverFailure);
        }
        CudaContext ctx;
        try {
            ctx = CudaContext.open(ordinal);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            // JCuda's native library links against libcuda.so.1, which only an NVIDIA driver installs.
            driverFailure = "no NVIDIA driver (libcuda.so not found; JCuda could not load: "
                    + firstLine(e.getMessage()) + ")";
            throw new IllegalStateException(driverFailure, e);
        } catch (CudaException e) {
            throw new IllegalStateException("CUDA device " + ordinal + " cannot start: " + e.getMessage(), e);
        }
        boolean tc = Boolean.getBoolean(TENSOR_CORES_PROPERTY) && ctx.hasTensorCores();
        return new CudaBackend(ctx, "cuda:" + ordinal, tc);
    }

    static int ordinal(String device) {
        String d = device.toLowerCase(Locale.ROOT).trim();
        if (d.equals("cuda")) {
            return 0;
        }
        if (d.matches("cuda:\\d{1,4}")) {
            return Integer.parseInt(d.substring(5));
        }
        throw new IllegalArgumentException("not a CUDA device name: \"" + device + "\" (expected cuda or cuda:N)");
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no message";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return ctx.describe() + ", GEMM " + (tensorCores ? "on tensor cores for F16/BF16 weights" : "exact f32");
    }

    // ---------------------------------------------------------------- memory

    /** The CUDA storage of a tensor of this backend. */
    static CudaStorage storage(Tensor t) {
        if (!(t.storage() instanceof CudaStorage s)) {
            throw new IllegalArgumentException(t + " is not in CUDA memory; transfer it to the CUDA backend first");
        }
        return s;
    }

    private CUdeviceptr address(Tensor t) {
        CudaStorage s = storage(t);
        if (s.device() != ctx) {
            throw new IllegalArgumentException(t + " belongs to another CUDA backend than " + name);
        }
        return s.at(t.byteOffset());
    }

    /** A new uninitialised tensor owned by the current scope. */
    private Tensor allocate(DType dtype, Shape shape) {
        long bytes = shape.numel() * dtype.byteSize();
        return Tensor.owning(this, new CudaStorage(ctx, ctx.allocate(bytes), bytes), shape, dtype, null);
    }

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        if (dtype == DType.I8) {
            throw new IllegalArgumentException("I8 tensors are weights: create them with fromHost and their scales");
        }
        Tensor t = allocate(dtype, shape);
        fill(t, 0L);
        return t;
    }

    @Override
    public Tensor fromArray(float[] data, Shape shape) {
        checkCount(data.length, shape);
        Tensor t = allocate(DType.F32, shape);
        ctx.upload(address(t), Pointer.to(data), t.byteSize());
        return t;
    }

    @Override
    public Tensor fromArray(long[] data, Shape shape) {
        checkCount(data.length, shape);
        Tensor t = allocate(DType.I64, shape);
        ctx.upload(address(t), Pointer.to(data), t.byteSize());
        return t;
    }

    @Override
    public Tensor fromHost(MemorySegment bytes, DType dtype, Shape shape, Tensor scales) {
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
        Tensor s = scales == null ? null : scales.backend() == this ? scales : transfer(scales);
        long n = bytes.byteSize();
        CudaStorage storage = new CudaStorage(ctx, ctx.allocate(n), n);
        ctx.upload(storage.at(0), bytes);
        return Tensor.owning(this, storage, shape, dtype, s);
    }

    @Override
    public float[] toFloatArray(Tensor t) {
        int n = Math.toIntExact(t.numel());
        float[] out = new float[n];
        switch (t.dtype()) {
            case F32 -> download(t, Pointer.to(out));
            case F16, BF16 -> {
                short[] v = new short[n];
                download(t, Pointer.to(v));
                for (int i = 0; i < n; i++) {
                    out[i] = t.dtype() == DType.F16 ? DType.f16ToF32(v[i]) : DType.bf16ToF32(v[i]);
                }
            }
            case I8 -> {
                byte[] v = new byte[n];
                download(t, Pointer.to(v));
                float[] sc = t.scales().toFloatArray();
                long perRow = n / t.dim(0);
                for (int i = 0; i < n; i++) {
                    out[i] = v[i] * sc[(int) (i / perRow)];
                }
            }
            case I32, I64 -> {
                long[] v = toLongArray(t);
                for (int i = 0; i < n; i++) {
                    out[i] = v[i];
                }
            }
        }
        return out;
    }

    @Override
    public long[] toLongArray(Tensor t) {
        int n = Math.toIntExact(t.numel());
        switch (t.dtype()) {
            case I64 -> {
                long[] out = new long[n];
                download(t, Pointer.to(out));
                return out;
            }
            case I32 -> {
                int[] v = new int[n];
                download(t, Pointer.to(v));
                return Arrays.stream(v).asLongStream().toArray();
            }
            default -> throw new IllegalArgumentException("toLongArray needs an integer tensor, got " + t.dtype());
        }
    }

    private void download(Tensor t, Pointer host) {
        if (t.numel() > 0) {
            ctx.download(host, address(t), t.byteSize());
        }
    }

    @Override
    public Tensor transfer(Tensor t) {
        if (t.backend() == this) {
            return Tensor.borrowed(this, t.storage(), t.byteOffset(), t.shape(), t.dtype(), t.scales());
        }
        if (t.storage() instanceof HostStorage hs) {
            MemorySegment bytes = hs.segment().asSlice(t.byteOffset(), t.byteSize());
            return fromHost(bytes, t.dtype(), t.shape(), t.scales());
        }
        return switch (t.dtype()) {
            case F32 -> fromArray(t.toFloatArray(), t.shape());
            case I64 -> fromArray(t.toLongArray(), t.shape());
            case F16, BF16 -> cast(fromArray(t.toFloatArray(), t.shape()), t.dtype());
            default -> throw new IllegalArgumentException("cannot transfer " + t + " to " + name
                    + " (only host memory or F32/F16/BF16/I64 device tensors)");
        };
    }

    @Override
    public Tensor cast(Tensor x, DType dtype) {
        if (x.dtype() == dtype) {
            return x;
        }
        if (!(x.dtype().isFloating() || x.dtype() == DType.I8) || !dtype.isFloating()) {
            throw new IllegalArgumentException("cast from " + x.dtype() + " to " + dtype + " is not supported");
        }
        Tensor out = allocate(dtype, x.shape());
        long n = x.numel();
        if (n > 0) {
            launch1d("cast_float", n, new KernelArgs().tensor(x).tensor(x.scales()).i64(perRow(x))
                    .i32(x.dtype().ordinal()).tensor(out).i32(dtype.ordinal()).i64(n));
        }
        return out;
    }

    // ---------------------------------------------------------------- linear algebra

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB, float alpha, Tensor bias, float beta,
            Tensor c) {
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
        Shape outShape = Shape.of(outDims);
        checkVector("matmul bias", bias, n);
        if (c != null && !c.shape().equals(outShape)) {
            throw new IllegalArgumentException("matmul c " + c.shape() + " does not match the result " + outShape);
        }
        requireF32("matmul a", a);
        requireF32("matmul c", c);
        int batches = Math.toIntExact(Shape.of(batchDims).numel());
        return gemm(a, b, transA, transB, m, n, k, batches, (long) m * k, sharedB ? 0 : (long) k * n, alpha, bias,
                beta, c, outShape);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        if (x.rank() < 1 || weight.rank() != 2 || x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("linear: x " + x.shape() + " does not match weight " + weight.shape()
                    + " [out, in]");
        }
        int in = weight.dim(1);
        int outF = weight.dim(0);
        checkVector("linear bias", bias, outF);
        requireF32("linear x", x);
        int rows = Math.toIntExact(x.shape().outer(x.rank() - 1));
        return gemm(x, weight, false, true, rows, outF, in, 1, 0, 0, 1f, bias, 0f, null,
                x.shape().with(x.rank() - 1, outF));
    }

    /** {@code out[z] = alpha * op(a[z]) @ op(b[z]) + bias + beta * c[z]} for z in [0, batches). */
    private Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB, int m, int n, int k, int batches,
            long strideA, long strideB, float alpha, Tensor bias, float beta, Tensor c, Shape outShape) {
        requireWeight("matmul b", b);
        requireF32("bias", bias);
        Tensor out = allocate(DType.F32, outShape);
        if (out.numel() == 0) {
            return out;
        }
        KernelArgs args = weightArgs(new KernelArgs().tensor(a), b).tensor(bias).tensor(c).tensor(out).i32(m).i32(n)
                .i32(k).i32(transA ? 1 : 0).i32(transB ? 1 : 0).i64(strideA).i64(strideB).f32(alpha).f32(beta);
        launchGemm("gemm", b, m, n, batches, args);
        return out;
    }

    /** Appends a weight operand as the kernels take it: data, scales, elements per dim-0 row, dtype. */
    private static KernelArgs weightArgs(KernelArgs args, Tensor w) {
        return args.tensor(w).tensor(w.scales()).i64(perRow(w)).i32(w.dtype().ordinal());
    }

    private static long perRow(Tensor t) {
        return t.rank() == 0 || t.dim(0) == 0 ? 1 : Math.max(1, t.numel() / t.dim(0));
    }

    /**
     * Launches one of the GEMM-family kernels ({@code gemm}, {@code conv2d}, {@code conv_transpose1d})
     * over an M x N output per batch entry: the tensor-core variant for F16/BF16 weights when enabled,
     * else the f32 one.
     */
    private void launchGemm(String family, Tensor weight, int m, int n, int batches, KernelArgs args) {
        boolean mma = tensorCores && (weight.dtype() == DType.F16 || weight.dtype() == DType.BF16);
        String kernel = family + (mma ? "_mma_" + weight.dtype().name().toLowerCase(Locale.ROOT) : "_f32");
        int[] grid = {ceilDiv(n, GEMM_TILE), ceilDiv(m, GEMM_TILE), batches};
        ctx.launch(kernel, grid, mma ? 128 : 256, args);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        if (x.rank() != 4 || weight.rank() != 4) {
            throw new IllegalArgumentException("conv2d needs x [batch, in, h, w] and weight [out, in, kh, kw], got x "
                    + x.shape() + " weight " + weight.shape());
        }
        checkConvParams("conv2d", stride, padding, dilation);
        return conv("conv2d", x, weight, bias, x.shape(), weight.shape(), new int[] {stride, padding, dilation},
                new int[] {stride, padding, dilation});
    }

    @Override
    public Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        if (x.rank() != 3 || weight.rank() != 3) {
            throw new IllegalArgumentException("conv1d needs x [batch, in, length] and weight [out, in, k], got x "
                    + x.shape() + " weight " + weight.shape());
        }
        checkConvParams("conv1d", stride, padding, dilation);
        // A 1-D convolution is a 2-D one over a height of 1 with a kernel height of 1.
        Shape x4 = Shape.of(x.dim(0), x.dim(1), 1, x.dim(2));
        Shape w4 = Shape.of(weight.dim(0), weight.dim(1), 1, weight.dim(2));
        return conv("conv1d", x, weight, bias, x4, w4, new int[] {1, 0, 1}, new int[] {stride, padding, dilation});
    }

    /**
     * Implicit-GEMM convolution over the 4-D views {@code xs}, {@code ws}; {@code alongH} and
     * {@code alongW} hold {stride, padding, dilation}. The result has the rank of {@code x}.
     */
    private Tensor conv(String op, Tensor x, Tensor weight, Tensor bias, Shape xs, Shape ws, int[] alongH,
            int[] alongW) {
        int batch = xs.dim(0);
        int cin = xs.dim(1);
        int h = xs.dim(2);
        int w = xs.dim(3);
        int cout = ws.dim(0);
        int kh = ws.dim(2);
        int kw = ws.dim(3);
        if (ws.dim(1) != cin) {
            throw new IllegalArgumentException(op + ": weight " + weight.shape() + " expects " + ws.dim(1)
                    + " input channels, x " + x.shape() + " has " + cin);
        }
        checkVector(op + " bias", bias, cout);
        requireF32(op + " x", x);
        requireWeight(op + " weight", weight);
        requireF32(op + " bias", bias);
        int oh = convOut(h, kh, alongH);
        int ow = convOut(w, kw, alongW);
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " is too small for kernel "
                    + weight.shape() + " with stride " + alongW[0] + ", padding " + alongW[1] + ", dilation "
                    + alongW[2]);
        }
        Tensor out = allocate(DType.F32, x.rank() == 3 ? Shape.of(batch, cout, ow) : Shape.of(batch, cout, oh, ow));
        int pixels = Math.multiplyExact(Math.multiplyExact(batch, oh), ow);
        if (out.numel() == 0) {
            return out;
        }
        KernelArgs args = weightArgs(new KernelArgs().tensor(x), weight).tensor(bias).tensor(out).i32(batch).i32(cin)
                .i32(h).i32(w).i32(cout).i32(kh).i32(kw).i32(oh).i32(ow).i32(alongH[0]).i32(alongH[1])
                .i32(alongH[2]).i32(alongW[0]).i32(alongW[1]).i32(alongW[2]);
        launchGemm("conv2d", weight, pixels, cout, 1, args);
        return out;
    }

    private static int convOut(int in, int k, int[] spd) {
        int span = in + 2 * spd[1] - spd[2] * (k - 1) - 1;
        return span < 0 ? 0 : span / spd[0] + 1;
    }

    private static void checkConvParams(String op, int stride, int padding, int dilation) {
        if (stride < 1 || padding < 0 || dilation < 1) {
            throw new IllegalArgumentException(op + ": stride " + stride + " and dilation " + dilation
                    + " must be >= 1 and padding " + padding + " >= 0");
        }
    }

    @Override
    public Tensor convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding,
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
        int batch = x.dim(0);
        int cin = x.dim(1);
        int len = x.dim(2);
        int cout = weight.dim(1);
        int k = weight.dim(2);
        int outLen = (len - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1;
        if (outLen < 1) {
            throw new IllegalArgumentException("convTranspose1d: x " + x.shape() + " with weight " + weight.shape()
                    + ", stride " + stride + ", padding " + padding + " gives output length " + outLen);
        }
        checkVector("convTranspose1d bias", bias, cout);
        requireF32("convTranspose1d x", x);
        requireWeight("convTranspose1d weight", weight);
        requireF32("convTranspose1d bias", bias);
        Tensor out = allocate(DType.F32, Shape.of(batch, cout, outLen));
        if (out.numel() == 0) {
            return out;
        }
        KernelArgs args = weightArgs(new KernelArgs().tensor(x), weight).tensor(bias).tensor(out).i32(batch).i32(cin)
                .i32(len).i32(cout).i32(k).i32(outLen).i32(stride).i32(padding).i32(dilation);
        launchGemm("conv_transpose1d", weight, Math.multiplyExact(batch, outLen), cout, 1, args);
        return out;
    }

    // ---------------------------------------------------------------- normalisation

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        if (x.rank() < 2 || groups < 1 || x.dim(1) % groups != 0) {
            throw new IllegalArgumentException("groupNorm: x " + x.shape() + " [batch, channels, ...] cannot be split"
                    + " into " + groups + " groups");
        }
        int channels = x.dim(1);
        checkVector("groupNorm gamma", gamma, channels);
        checkVector("groupNorm beta", beta, channels);
        requireF32("groupNorm x", x);
        requireF32("groupNorm gamma", gamma);
        requireF32("groupNorm beta", beta);
        Tensor out = allocate(DType.F32, x.shape());
        if (out.numel() > 0) {
            ctx.launch("group_norm_f32", new int[] {Math.multiplyExact(x.dim(0), groups), 1, 1}, THREADS,
                    new KernelArgs().tensor(x).tensor(gamma).tensor(beta).tensor(out).i32(groups)
                            .i32(channels / groups).i64(x.shape().inner(1)).f32(eps).i32(silu ? 1 : 0));
        }
        return out;
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        int d = lastDim("layerNorm", x);
        checkVector("layerNorm gamma", gamma, d);
        checkVector("layerNorm beta", beta, d);
        requireF32("layerNorm gamma", gamma);
        requireF32("layerNorm beta", beta);
        return rows("layer_norm_f32", x, d, new KernelArgs().tensor(x).tensor(gamma).tensor(beta), eps);
    }

    @Override
    public Tensor softmax(Tensor x) {
        return rows("softmax_f32", x, lastDim("softmax", x), new KernelArgs().tensor(x), null);
    }

    @Override
    public Tensor l2Normalize(Tensor x, float eps) {
        return rows("l2_normalize_f32", x, lastDim("l2Normalize", x), new KernelArgs().tensor(x), eps);
    }

    /** A row kernel (one block per row of {@code d}): {@code (inputs..., y, d[, eps])}. */
    private Tensor rows(String kernel, Tensor x, int d, KernelArgs inputs, Float eps) {
        requireF32(kernel, x);
        Tensor out = allocate(DType.F32, x.shape());
        int rows = Math.toIntExact(x.numel() / d);
        if (rows > 0) {
            KernelArgs args = inputs.tensor(out).i32(d);
            if (eps != null) {
                args.f32(eps);
            }
            ctx.launch(kernel, new int[] {rows, 1, 1}, THREADS, args);
        }
        return out;
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
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
        if (d > MAX_HEAD_DIM || dv > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("attention: head dims " + d + " and " + dv + " must be at most "
                    + MAX_HEAD_DIM + " on CUDA");
        }
        long[] ms = mask == null ? new long[4]
                : broadcastStrides(mask.shape(), new int[] {batch, heads, lq, lk}, "attention mask");
        for (Tensor t : new Tensor[] {q, k, v, mask}) {
            requireF32("attention operand", t);
        }
        Tensor out = allocate(DType.F32, Shape.of(batch, heads, lq, dv));
        if (out.numel() == 0) {
            return out;
        }
        if (lk == 0) {
            fill(out, 0L); // no keys: an empty weighted sum, as the reference
            return out;
        }
        ctx.launch("attention_f32", new int[] {ceilDiv(lq, ATTENTION_ROWS_PER_BLOCK),
                Math.multiplyExact(batch, heads), 1}, 32 * ATTENTION_ROWS_PER_BLOCK,
                new KernelArgs().tensor(q).tensor(k).tensor(v).tensor(mask).tensor(out).i32(heads).i32(lq).i32(lk)
                        .i32(d).i32(dv).f32(scale).i64(ms[0]).i64(ms[1]).i64(ms[2]).i64(ms[3]));
        return out;
    }

    // ---------------------------------------------------------------- element-wise

    @Override
    public Tensor unary(UnaryOp op, Tensor x, float param) {
        requireF32("unary " + op, x);
        Tensor out = allocate(DType.F32, x.shape());
        if (x.numel() > 0) {
            launch1d("unary_f32", x.numel(),
                    new KernelArgs().tensor(x).tensor(out).i64(x.numel()).i32(op.ordinal()).f32(param));
        }
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
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
        requireF32("binary " + op, a);
        requireF32("binary " + op, b);
        long[] sa = broadcastStrides(a.shape(), outDims, "binary operand");
        long[] sb = broadcastStrides(b.shape(), outDims, "binary operand");
        Tensor out = allocate(DType.F32, Shape.of(outDims));
        if (out.numel() > 0) {
            launch1d("binary_f32", out.numel(), new KernelArgs().tensor(a).tensor(b).tensor(out).i64(out.numel())
                    .i32(op.ordinal()).words(StridedIndex.of(outDims, sa, sb)));
        }
        return out;
    }

    @Override
    public Tensor scalar(BinaryOp op, Tensor x, float s) {
        requireF32("scalar " + op, x);
        Tensor out = allocate(DType.F32, x.shape());
        if (x.numel() > 0) {
            launch1d("scalar_f32", x.numel(),
                    new KernelArgs().tensor(x).tensor(out).i64(x.numel()).i32(op.ordinal()).f32(s));
        }
        return out;
    }

    private static int dimFromEnd(Shape s, int fromEnd) {
        return fromEnd <= s.rank() ? s.dim(s.rank() - fromEnd) : 1;
    }

    /** Strides of {@code s} read as broadcast to {@code target} (aligned right, 0 where s is 1 or absent). */
    private static long[] broadcastStrides(Shape s, int[] target, String what) {
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

    @Override
    public Tensor concat(List<Tensor> parts, int dim) {
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
        Tensor out = allocate(first.dtype(), first.shape().with(d, total));
        int outer = Math.toIntExact(first.shape().outer(d));
        long inner = first.shape().inner(d);
        long at = 0; // element position of the current part inside one output row
        for (Tensor p : parts) {
            int run = Math.toIntExact(p.dim(d) * inner);
            copyRegion(p, 0, new long[] {run, 1}, out, at, new long[] {total * inner, 1}, new int[] {outer, run});
            at += run;
        }
        return out;
    }

    @Override
    public Tensor slice(Tensor x, int dim, int start, int end) {
        checkMovable("slice", x);
        int d = x.shape().axis(dim);
        if (start < 0 || end > x.dim(d) || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") out of range for dim " + d + " of "
                    + x.shape());
        }
        Tensor out = allocate(x.dtype(), x.shape().with(d, end - start));
        long inner = x.shape().inner(d);
        int run = Math.toIntExact((end - start) * inner);
        copyRegion(x, start * inner, new long[] {x.dim(d) * inner, 1}, out, 0, new long[] {run, 1},
                new int[] {Math.toIntExact(x.shape().outer(d)), run});
        return out;
    }

    @Override
    public Tensor permute(Tensor x, int... perm) {
        checkMovable("permute", x);
        int rank = x.rank();
        if (perm.length != rank) {
            throw new IllegalArgumentException("permute " + Arrays.toString(perm) + " does not fit " + x.shape());
        }
        boolean[] seen = new boolean[rank];
        int[] outDims = new int[rank];
        long[] inStrides = x.shape().strides();
        long[] srcStride = new long[rank];
        for (int i = 0; i < rank; i++) {
            int p = perm[i];
            if (p < 0 || p >= rank || seen[p]) {
                throw new IllegalArgumentException("permute " + Arrays.toString(perm) + " is not a permutation of the"
                        + " dims of " + x.shape());
            }
            seen[p] = true;
            outDims[i] = x.dim(p);
            srcStride[i] = inStrides[p];
        }
        Tensor out = allocate(x.dtype(), Shape.of(outDims));
        copyRegion(x, 0, srcStride, out, 0, StridedIndex.contiguous(outDims), outDims);
        return out;
    }

    @Override
    public Tensor upsampleNearest(Tensor x, int outH, int outW) {
        checkMovable("upsampleNearest", x);
        if (x.rank() != 4 || outH < 1 || outW < 1 || x.dim(2) < 1 || x.dim(3) < 1) {
            throw new IllegalArgumentException("upsampleNearest: cannot resize " + x.shape()
                    + " [batch, channels, h, w] to " + outH + "x" + outW);
        }
        Tensor out = allocate(x.dtype(), Shape.of(x.dim(0), x.dim(1), outH, outW));
        long planes = (long) x.dim(0) * x.dim(1);
        if (out.numel() > 0) {
            launch1d("upsample_nearest", out.numel(), new KernelArgs().tensor(x).tensor(out).i64(planes).i32(x.dim(2))
                    .i32(x.dim(3)).i32(outH).i32(outW).i32(x.dtype().byteSize()));
        }
        return out;
    }

    @Override
    public Tensor pad(Tensor x, int[] pads, float value) {
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
        Tensor out = allocate(x.dtype(), Shape.of(outDims));
        fill(out, fillBits(x.dtype(), value));
        // The surviving input region [lo, lo + count) lands at lo + before.
        int[] count = new int[rank];
        long[] inStrides = x.shape().strides();
        long[] outStrides = Shape.of(outDims).strides();
        long src = 0;
        long dst = 0;
        for (int d = 0; d < rank; d++) {
            int lo = Math.max(0, -before[d]);
            count[d] = Math.max(0, Math.min(x.dim(d), outDims[d] - before[d]) - lo);
            src += lo * inStrides[d];
            dst += (lo + before[d]) * outStrides[d];
        }
        copyRegion(x, src, inStrides, out, dst, outStrides, count);
        return out;
    }

    /** The bit pattern of {@code value} in {@code dtype}, for {@link #fill}. */
    private static long fillBits(DType dtype, float value) {
        return switch (dtype) {
            case F32 -> Float.floatToRawIntBits(value) & 0xFFFFFFFFL;
            case F16 -> DType.f32ToF16(value) & 0xFFFFL;
            case BF16 -> DType.f32ToBf16(value) & 0xFFFFL;
            case I32 -> (int) value & 0xFFFFFFFFL;
            case I64 -> (long) value;
            case I8 -> throw new IllegalArgumentException("cannot fill an I8 tensor");
        };
    }

    @Override
    public Tensor embedding(Tensor ids, Tensor table) {
        if (ids.dtype() != DType.I64 && ids.dtype() != DType.I32) {
            throw new IllegalArgumentException("embedding ids must be I64 or I32, got " + ids.dtype());
        }
        if (table.rank() != 2 || !table.dtype().isFloating() && table.dtype() != DType.I8) {
            throw new IllegalArgumentException("embedding table must be [vocab, d] of a float type, got "
                    + table.shape() + " " + table.dtype());
        }
        int vocab = table.dim(0);
        int d = table.dim(1);
        // Ids are few (tokens); checking them on the host gives a clear error instead of a device fault.
        long[] idv = toLongArray(ids);
        for (int i = 0; i < idv.length; i++) {
            if (idv[i] < 0 || idv[i] >= vocab) {
                throw new IllegalArgumentException("embedding id " + idv[i] + " at position " + i + " is outside the"
                        + " table of " + vocab + " rows " + table.shape());
            }
        }
        int[] outDims = Arrays.copyOf(ids.shape().dims(), ids.rank() + 1);
        outDims[ids.rank()] = d;
        Tensor out = allocate(DType.F32, Shape.of(outDims));
        if (out.numel() > 0) {
            launch1d("embedding_f32", out.numel(), new KernelArgs().tensor(ids).i32(ids.dtype().ordinal())
                    .tensor(table).tensor(table.scales()).i32(table.dtype().ordinal()).i64(idv.length).i32(d)
                    .tensor(out));
        }
        return out;
    }

    /**
     * {@code dst[dstBase + idx . dstStrides] = src[srcBase + idx . srcStrides]} for every index of
     * {@code region} (element units), one kernel launch.
     */
    private void copyRegion(Tensor src, long srcBase, long[] srcStrides, Tensor dst, long dstBase, long[] dstStrides,
            int[] region) {
        long n = Shape.of(region).numel();
        if (n == 0) {
            return;
        }
        long esz = src.dtype().byteSize();
        KernelArgs args = new KernelArgs().address(address(src).withByteOffset(srcBase * esz))
                .address(address(dst).withByteOffset(dstBase * esz)).i64(n).i32((int) esz)
                .words(StridedIndex.of(region, srcStrides, dstStrides));
        launch1d("strided_copy", n, args);
    }

    private static void checkMovable(String op, Tensor x) {
        if (x.dtype() == DType.I8) {
            throw new IllegalArgumentException(op + " of an I8 tensor " + x.shape()
                    + " is not supported (its per-row scales would not follow); cast it to F32 first");
        }
    }

    // ---------------------------------------------------------------- reductions

    @Override
    public Tensor sum(Tensor x, int dim, boolean keepDim) {
        return reduce(x, dim, keepDim, false);
    }

    @Override
    public Tensor mean(Tensor x, int dim, boolean keepDim) {
        return reduce(x, dim, keepDim, true);
    }

    private Tensor reduce(Tensor x, int dim, boolean keepDim, boolean mean) {
        requireF32(mean ? "mean" : "sum", x);
        int d = x.shape().axis(dim);
        long outer = x.shape().outer(d);
        int n = x.dim(d);
        long inner = x.shape().inner(d);
        Shape outShape = x.shape().with(d, 1);
        if (!keepDim) {
            int[] dims = x.shape().dims();
            int[] squeezed = new int[dims.length - 1];
            for (int i = 0, j = 0; i < dims.length; i++) {
                if (i != d) {
                    squeezed[j++] = dims[i];
                }
            }
            outShape = Shape.of(squeezed);
        }
        Tensor out = allocate(DType.F32, outShape);
        if (out.numel() > 0) {
            launch1d("reduce_dim_f32", out.numel(), new KernelArgs().tensor(x).tensor(out).i64(outer).i32(n)
                    .i64(inner).f64(mean ? 1.0 / n : 1.0));
        }
        return out;
    }

    // ---------------------------------------------------------------- helpers

    /** Sets every element of {@code t} to the low {@code dtype.byteSize()} bytes of {@code bits}. */
    private void fill(Tensor t, long bits) {
        if (t.numel() > 0) {
            launch1d("fill_bits", t.numel(),
                    new KernelArgs().tensor(t).i64(t.numel()).i32(t.dtype().byteSize()).i64(bits));
        }
    }

    /** A grid-stride kernel over {@code n} elements. */
    private void launch1d(String kernel, long n, KernelArgs args) {
        int blocks = (int) Math.min(MAX_GRID_X, (n + THREADS - 1) / THREADS);
        ctx.launch(kernel, new int[] {blocks, 1, 1}, THREADS, args);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static void requireF32(String what, Tensor t) {
        if (t != null && t.dtype() != DType.F32) {
            throw new IllegalArgumentException(what + " must be an F32 activation on CUDA, got " + t.shape() + " "
                    + t.dtype());
        }
    }

    private static void requireWeight(String what, Tensor t) {
        if (!t.dtype().isFloating() && t.dtype() != DType.I8) {
            throw new IllegalArgumentException(what + " must be F32, F16, BF16 or I8, got " + t.shape() + " "
                    + t.dtype());
        }
    }

    private static int lastDim(String op, Tensor x) {
        if (x.rank() < 1 || x.dim(-1) == 0) {
            throw new IllegalArgumentException(op + " needs a non-empty last dim, got " + x.shape());
        }
        return x.dim(-1);
    }

    private static void checkVector(String what, Tensor t, int n) {
        if (t != null && (t.rank() != 1 || t.dim(0) != n)) {
            throw new IllegalArgumentException(what + " " + t.shape() + " must be [" + n + "]");
        }
    }

    private static void checkCount(int length, Shape shape) {
        if (length != shape.numel()) {
            throw new IllegalArgumentException(length + " values do not fill shape " + shape);
        }
    }

    @Override
    public void close() {
        ctx.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
