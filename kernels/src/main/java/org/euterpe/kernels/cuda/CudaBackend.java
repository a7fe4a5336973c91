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
import org.euterpe.tensor.OpShapes;
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
    private final CudaStorage.Live live = new CudaStorage.Live();

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

    /** Tensor storages of this backend not yet closed (a leak check's count; pooled buffers excluded). */
    public int liveBuffers() {
        return live.buffers.get();
    }

    /** The bytes of the storages {@link #liveBuffers} counts. */
    public long liveBytes() {
        return live.bytes.get();
    }

    /**
     * The driver's view of the whole device, {@code {free, total}} bytes (cuMemGetInfo; other
     * processes' memory and this backend's buffer pool count as used), or null where unknown.
     */
    public long[] deviceMemory() {
        return ctx.memoryInfo();
    }

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
        return Tensor.owning(this, new CudaStorage(ctx, ctx.allocate(bytes), bytes, live), shape, dtype, null);
    }

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        OpShapes.zeros(dtype);
        Tensor t = allocate(dtype, shape);
        fill(t, 0L);
        return t;
    }

    @Override
    public Tensor fromArray(float[] data, Shape shape) {
        OpShapes.fromArray(data.length, shape);
        Tensor t = allocate(DType.F32, shape);
        ctx.upload(address(t), Pointer.to(data), t.byteSize());
        return t;
    }

    @Override
    public Tensor fromArray(long[] data, Shape shape) {
        OpShapes.fromArray(data.length, shape);
        Tensor t = allocate(DType.I64, shape);
        ctx.upload(address(t), Pointer.to(data), t.byteSize());
        return t;
    }

    @Override
    public Tensor fromHost(MemorySegment bytes, DType dtype, Shape shape, Tensor scales) {
        OpShapes.fromHost(bytes, dtype, shape, scales);
        Tensor s = scales == null ? null : scales.backend() == this ? scales : transfer(scales);
        long n = bytes.byteSize();
        CudaStorage storage = new CudaStorage(ctx, ctx.allocate(n), n, live);
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
        OpShapes.toLongArray(t);
        int n = Math.toIntExact(t.numel());
        if (t.dtype() == DType.I32) {
            int[] v = new int[n];
            download(t, Pointer.to(v));
            return Arrays.stream(v).asLongStream().toArray();
        }
        long[] out = new long[n];
        download(t, Pointer.to(out));
        return out;
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
        OpShapes.Gemm g = OpShapes.matmul(a, b, transA, transB, bias, c);
        requireF32("matmul a", a);
        requireF32("matmul c", c);
        return gemm(a, b, transA, transB, g.m(), g.n(), g.k(), g.batches(), (long) g.m() * g.k(),
                g.sharedB() ? 0 : (long) g.k() * g.n(), alpha, bias, beta, c, g.out());
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Shape outShape = OpShapes.linear(x, weight, bias);
        requireF32("linear x", x);
        int rows = Math.toIntExact(x.shape().outer(x.rank() - 1));
        return gemm(x, weight, false, true, rows, weight.dim(0), weight.dim(1), 1, 0, 0, 1f, bias, 0f, null,
                outShape);
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
        return conv("conv2d", OpShapes.conv2d(x, weight, bias, stride, padding, dilation), x, weight, bias);
    }

    @Override
    public Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        return conv("conv1d", OpShapes.conv1d(x, weight, bias, stride, padding, dilation), x, weight, bias);
    }

    /** Implicit-GEMM convolution, every op seen as a 2-D one (see {@link OpShapes.Conv}). */
    private Tensor conv(String op, OpShapes.Conv cv, Tensor x, Tensor weight, Tensor bias) {
        requireF32(op + " x", x);
        requireWeight(op + " weight", weight);
        requireF32(op + " bias", bias);
        Tensor out = allocate(DType.F32, cv.out());
        int pixels = Math.multiplyExact(Math.multiplyExact(cv.batch(), cv.oh()), cv.ow());
        if (out.numel() == 0) {
            return out;
        }
        KernelArgs args = weightArgs(new KernelArgs().tensor(x), weight).tensor(bias).tensor(out).i32(cv.batch())
                .i32(cv.cin()).i32(cv.h()).i32(cv.w()).i32(cv.cout()).i32(cv.kh()).i32(cv.kw()).i32(cv.oh())
                .i32(cv.ow()).i32(cv.sh()).i32(cv.ph()).i32(cv.dh()).i32(cv.sw()).i32(cv.pw()).i32(cv.dw());
        launchGemm("conv2d", weight, pixels, cv.cout(), 1, args);
        return out;
    }

    @Override
    public Tensor convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding,
            int dilation) {
        Shape outShape = OpShapes.convTranspose1d(x, weight, bias, stride, padding, outputPadding, dilation);
        int batch = x.dim(0);
        int cin = x.dim(1);
        int len = x.dim(2);
        int cout = weight.dim(1);
        int k = weight.dim(2);
        int outLen = outShape.dim(2);
        requireF32("convTranspose1d x", x);
        requireWeight("convTranspose1d weight", weight);
        requireF32("convTranspose1d bias", bias);
        Tensor out = allocate(DType.F32, outShape);
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
        OpShapes.groupNorm(x, groups, gamma, beta);
        int channels = x.dim(1);
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
        int d = OpShapes.layerNorm(x, gamma, beta);
        requireF32("layerNorm gamma", gamma);
        requireF32("layerNorm beta", beta);
        return rows("layer_norm_f32", x, d, new KernelArgs().tensor(x).tensor(gamma).tensor(beta), eps);
    }

    @Override
    public Tensor softmax(Tensor x) {
        return rows("softmax_f32", x, OpShapes.lastDim("softmax", x), new KernelArgs().tensor(x), null);
    }

    @Override
    public Tensor l2Normalize(Tensor x, float eps) {
        return rows("l2_normalize_f32", x, OpShapes.lastDim("l2Normalize", x), new KernelArgs().tensor(x), eps);
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
        OpShapes.Attention at = OpShapes.attention(q, k, v, mask);
        int batch = at.batch();
        int heads = at.heads();
        int lq = at.lq();
        int d = at.d();
        int lk = at.lk();
        int dv = at.dv();
        if (d > MAX_HEAD_DIM || dv > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("attention: head dims " + d + " and " + dv + " must be at most "
                    + MAX_HEAD_DIM + " on CUDA");
        }
        long[] ms = at.maskStrides();
        for (Tensor t : new Tensor[] {q, k, v, mask}) {
            requireF32("attention operand", t);
        }
        Tensor out = allocate(DType.F32, at.out());
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
        OpShapes.Broadcast bc = OpShapes.broadcast(op, a, b);
        requireF32("binary " + op, a);
        requireF32("binary " + op, b);
        Tensor out = allocate(DType.F32, bc.out());
        if (out.numel() > 0) {
            launch1d("binary_f32", out.numel(), new KernelArgs().tensor(a).tensor(b).tensor(out).i64(out.numel())
                    .i32(op.ordinal()).words(StridedIndex.of(bc.out().dims(), bc.stridesA(), bc.stridesB())));
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

    // ---------------------------------------------------------------- data movement

    @Override
    public Tensor concat(List<Tensor> parts, int dim) {
        OpShapes.Concat cc = OpShapes.concat(parts, dim);
        int d = cc.dim();
        int total = cc.out().dim(d);
        Tensor first = parts.getFirst();
        Tensor out = allocate(first.dtype(), cc.out());
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
        int d = OpShapes.slice(x, dim, start, end);
        Tensor out = allocate(x.dtype(), x.shape().with(d, end - start));
        long inner = x.shape().inner(d);
        int run = Math.toIntExact((end - start) * inner);
        copyRegion(x, start * inner, new long[] {x.dim(d) * inner, 1}, out, 0, new long[] {run, 1},
                new int[] {Math.toIntExact(x.shape().outer(d)), run});
        return out;
    }

    @Override
    public Tensor permute(Tensor x, int... perm) {
        OpShapes.Permute pm = OpShapes.permute(x, perm);
        Tensor out = allocate(x.dtype(), pm.out());
        copyRegion(x, 0, pm.srcStrides(), out, 0, pm.out().strides(), pm.out().dims());
        return out;
    }

    @Override
    public Tensor upsampleNearest(Tensor x, int outH, int outW) {
        Tensor out = allocate(x.dtype(), OpShapes.upsampleNearest(x, outH, outW));
        long planes = (long) x.dim(0) * x.dim(1);
        if (out.numel() > 0) {
            launch1d("upsample_nearest", out.numel(), new KernelArgs().tensor(x).tensor(out).i64(planes).i32(x.dim(2))
                    .i32(x.dim(3)).i32(outH).i32(outW).i32(x.dtype().byteSize()));
        }
        return out;
    }

    @Override
    public Tensor pad(Tensor x, int[] pads, float value) {
        OpShapes.Pad pd = OpShapes.pad(x, pads);
        int rank = x.rank();
        int[] before = pd.before();
        int[] outDims = pd.out().dims();
        Tensor out = allocate(x.dtype(), pd.out());
        fill(out, fillBits(x.dtype(), value));
        // The surviving input region [lo, lo + count) lands at lo + before.
        int[] count = new int[rank];
        long[] inStrides = x.shape().strides();
        long[] outStrides = pd.out().strides();
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
        Shape outShape = OpShapes.embedding(ids, table);
        // Ids are few (tokens); checking them on the host gives a clear error instead of a device fault.
        long[] idv = toLongArray(ids);
        OpShapes.embeddingIds(idv, table);
        int d = table.dim(1);
        Tensor out = allocate(DType.F32, outShape);
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
        Tensor out = allocate(DType.F32, OpShapes.reduced(x.shape(), d, keepDim));
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

    // ---------------------------------------------------------------- fixed-kernel 2x resampling (Dance Diffusion)

    @Override
    public Tensor downsample1d(Tensor x, Tensor kernel) {
        return resample1d("downsample1d", x, kernel, OpShapes.downsample1d(x, kernel));
    }

    @Override
    public Tensor upsample1d(Tensor x, Tensor kernel) {
        return resample1d("upsample1d", x, kernel, OpShapes.upsample1d(x, kernel));
    }

    private Tensor resample1d(String name, Tensor x, Tensor kernel, OpShapes.Resample1d g) {
        Tensor out = allocate(DType.F32, Shape.of(x.dim(0), x.dim(1), g.outLength()));
        if (out.numel() > 0) {
            launch1d(name, out.numel(), new KernelArgs().tensor(x).tensor(kernel).tensor(out).i64(g.rows())
                    .i32(g.length()).i32(g.k()).i32(g.pad()).i32(g.outLength()));
        }
        return out;
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

    // ---------------------------------------------------------------- gated activation (Stable Audio DiT)

    @Override
    public Tensor swiglu(Tensor x) {
        int n = OpShapes.swiglu(x);
        requireF32("swiglu", x);
        int[] dims = x.shape().dims();
        dims[dims.length - 1] = n;
        Tensor out = allocate(DType.F32, Shape.of(dims));
        if (out.numel() > 0) {
            launch1d("swiglu_f32", out.numel(), new KernelArgs().tensor(x).tensor(out).i64(out.numel()).i32(n));
        }
        return out;
    }

    // ---------------------------------------------------------------- audio activations (Stable Audio)

    @Override
    public Tensor snake(Tensor x, Tensor alpha, Tensor invBeta) {
        OpShapes.snake(x, alpha, invBeta);
        requireF32("snake", x);
        requireF32("snake alpha", alpha);
        requireF32("snake invBeta", invBeta);
        Tensor out = allocate(DType.F32, x.shape());
        if (x.numel() > 0) {
            launch1d("snake_f32", x.numel(), new KernelArgs().tensor(x).tensor(alpha).tensor(invBeta).tensor(out)
                    .i64(x.numel()).i32(x.dim(1)).i64(x.dim(2)));
        }
        return out;
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        int d = OpShapes.rmsNorm(x, weight);
        requireF32("rmsNorm", x);
        requireF32("rmsNorm weight", weight);
        Tensor out = allocate(DType.F32, x.shape());
        long rows = x.numel() / d;
        if (rows > 0) {
            launch1d("rms_norm_f32", rows * 32, new KernelArgs().tensor(x).tensor(weight).tensor(out).i64(rows).i32(d)
                    .f32(eps));
        }
        return out;
    }

    @Override
    public Tensor rotary(Tensor x, Tensor cos, Tensor sin) {
        int r = OpShapes.rotary(x, cos, sin);
        requireF32("rotary", x);
        requireF32("rotary cos", cos);
        requireF32("rotary sin", sin);
        Tensor out = allocate(DType.F32, x.shape());
        if (x.numel() > 0) {
            launch1d("rotary_f32", x.numel(), new KernelArgs().tensor(x).tensor(cos).tensor(sin).tensor(out)
                    .i64(x.numel()).i32(x.dim(3)).i32(r).i32(x.dim(2)));
        }
        return out;
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
