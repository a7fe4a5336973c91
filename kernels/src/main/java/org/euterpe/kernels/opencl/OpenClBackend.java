package org.euterpe.kernels.opencl;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.HostStorage;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;
import org.jocl.cl_mem;

/**
 * The OpenCL backend: every op as an OpenCL C 1.2 kernel (sources under
 * {@code resources/org/euterpe/kernels/opencl}), tensors in device buffers that stay on the
 * device between ops. Weights keep their storage dtype (F16/BF16/I8 + scales) on the device and
 * are widened inside the kernels.
 *
 * <p>Open with {@link #open(String)}: {@code opencl} is the first GPU (or the first device when
 * there is none), {@code opencl:N} the N-th device over all platforms.
 */
public final class OpenClBackend implements Backend {
    private static final Map<Integer, OpenClBackend> OPEN = new HashMap<>();

    private final ClRuntime rt;
    private final String name;

    private OpenClBackend(ClRuntime rt) {
        this.rt = rt;
        this.name = rt.device.deviceName();
    }

    /**
     * The backend for {@code device}, opened once per device and shared: "opencl" (the first GPU,
     * else the first device), "opencl:N" (the N-th device over all platforms) or "opencl:gpu" (the
     * first GPU, or an error).
     *
     * @throws IllegalStateException when there is no OpenCL platform or no such device
     */
    public static synchronized OpenClBackend open(String device) {
        return open(device, ProgramBuilder.defaultCacheDir());
    }

    /** As {@link #open(String)}, with the kernel binary cache at {@code cacheDir}. */
    static synchronized OpenClBackend open(String device, Path cacheDir) {
        ClDevice d = select(device);
        OpenClBackend b = OPEN.get(d.index());
        if (b == null) {
            b = new OpenClBackend(new ClRuntime(d, cacheDir));
            OPEN.put(d.index(), b);
        }
        return b;
    }

    /** A fresh, unshared backend for {@code device} (tests of the build and cache paths). */
    static OpenClBackend openPrivate(String device, Path cacheDir) {
        return new OpenClBackend(new ClRuntime(select(device), cacheDir));
    }

    private static ClDevice select(String device) {
        String d = device.toLowerCase(java.util.Locale.ROOT);
        List<ClDevice> all = ClDevice.all();
        if (all.isEmpty()) {
            throw new IllegalStateException("no OpenCL platform with a device is installed (check the ICD loader and"
                    + " /etc/OpenCL/vendors)");
        }
        if (d.equals("opencl")) {
            return all.stream().filter(ClDevice::gpu).findFirst().orElse(all.getFirst());
        }
        if (d.equals("opencl:gpu")) {
            // What `auto` asks for: a CPU OpenCL device (e.g. POCL) is slower than the Vector-API backend.
            return all.stream().filter(ClDevice::gpu).findFirst().orElseThrow(() -> new IllegalStateException(
                    "no OpenCL GPU (only CPU devices: " + all.size() + ")"));
        }
        int n;
        try {
            n = Integer.parseInt(d.substring(d.indexOf(':') + 1));
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("bad OpenCL device \"" + device + "\" (expected opencl or opencl:N)");
        }
        if (!d.startsWith("opencl:") || n < 0 || n >= all.size()) {
            throw new IllegalStateException("no OpenCL device " + device + ": there are " + all.size()
                    + " (opencl:0 to opencl:" + (all.size() - 1) + ")");
        }
        return all.get(n);
    }

    /**
     * One line per OpenCL device (its {@code opencl:N} name, kind, memory, extensions), or a line
     * saying why there are none. Never throws.
     */
    public static List<String> describeDevices() {
        try {
            List<ClDevice> all = ClDevice.all();
            if (all.isEmpty()) {
                return List.of("no OpenCL platform with a device is installed");
            }
            List<String> out = new ArrayList<>();
            for (ClDevice d : all) {
                out.add(d.deviceName() + "  " + d.summary());
                out.add("          extensions: " + d.extensions());
            }
            return out;
        } catch (RuntimeException | LinkageError e) {
            return List.of("OpenCL unavailable: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "OpenCL " + rt.device.summary();
    }

    /** Device buffers currently allocated by this backend and not released. */
    public int liveBuffers() {
        return rt.liveBuffers();
    }

    /** The device runtime (tests: allocation limits). */
    ClRuntime runtime() {
        return rt;
    }

    /** Whether the kernels were loaded from the binary cache rather than compiled. */
    boolean programFromCache() {
        return rt.fromCache;
    }

    // ---------------------------------------------------------------- memory

    /** A new uninitialised tensor owned by the current scope. */
    private Tensor allocate(DType dtype, Shape shape) {
        if (shape.numel() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + shape + " has more than 2^31 elements, the limit of the"
                    + " OpenCL kernels' indexing");
        }
        return Tensor.owning(this, rt.allocate(shape.numel() * dtype.byteSize()), shape, dtype, null);
    }

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        OpShapes.zeros(dtype);
        Tensor t = allocate(dtype, shape);
        rt.fillZero(mem(t), t.byteSize());
        return t;
    }

    @Override
    public Tensor fromArray(float[] data, Shape shape) {
        OpShapes.fromArray(data.length, shape);
        Tensor t = allocate(DType.F32, shape);
        rt.write(mem(t), data);
        return t;
    }

    @Override
    public Tensor fromArray(long[] data, Shape shape) {
        OpShapes.fromArray(data.length, shape);
        Tensor t = allocate(DType.I64, shape);
        rt.write(mem(t), data);
        return t;
    }

    /** Chunk size of uploads from host memory, so mapped files above 2 GB upload too. */
    private static final long UPLOAD_CHUNK = 1L << 26;

    @Override
    public Tensor fromHost(MemorySegment bytes, DType dtype, Shape shape, Tensor scales) {
        OpShapes.fromHost(bytes, dtype, shape, scales);
        Tensor s = scales == null ? null : scales.backend() == this && scales.dtype() == DType.F32 ? scales
                : transfer(scales).cast(DType.F32);
        if (shape.numel() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + shape + " has more than 2^31 elements");
        }
        ClStorage st = rt.allocate(bytes.byteSize());
        // A heap segment over a float[] (a CPU tensor) has no ByteBuffer view: such memory goes through a
        // direct staging buffer; native and mapped memory is written from where it lies.
        ByteBuffer staging = bytes.isNative() ? null
                : ByteBuffer.allocateDirect((int) Math.min(UPLOAD_CHUNK, bytes.byteSize()));
        for (long off = 0; off < bytes.byteSize(); off += UPLOAD_CHUNK) {
            long n = Math.min(UPLOAD_CHUNK, bytes.byteSize() - off);
            ByteBuffer bb;
            if (staging == null) {
                bb = bytes.asSlice(off, n).asByteBuffer();
            } else {
                MemorySegment.copy(bytes, off, MemorySegment.ofBuffer(staging.clear()), 0, n);
                bb = staging.limit((int) n);
            }
            rt.write(st.mem(), off, bb);
        }
        return Tensor.owning(this, st, shape, dtype, s);
    }

    @Override
    public float[] toFloatArray(Tensor t) {
        if (t.dtype() == DType.F32) {
            float[] out = new float[Math.toIntExact(t.numel())];
            rt.read(mem(t), t.byteOffset(), out);
            return out;
        }
        return Backends.scalar().toFloatArray(toHost(t));
    }

    @Override
    public long[] toLongArray(Tensor t) {
        OpShapes.toLongArray(t);
        return Backends.scalar().toLongArray(toHost(t));
    }

    /** The tensor's bytes read back into a host tensor, so the reference's widening applies. */
    private Tensor toHost(Tensor t) {
        byte[] bytes = new byte[Math.toIntExact(t.byteSize())];
        rt.read(mem(t), t.byteOffset(), bytes);
        Tensor sc = t.scales() == null ? null : Backends.scalar().fromArray(toFloatArray(t.scales()),
                t.scales().shape());
        return Tensor.borrowed(Backends.scalar(), HostStorage.borrow(MemorySegment.ofArray(bytes), null), 0,
                t.shape(), t.dtype(), sc);
    }

    @Override
    public Tensor transfer(Tensor t) {
        if (t.backend() == this) {
            Tensor out = allocate(t.dtype(), t.shape());
            rt.copy(mem(t), t.byteOffset(), mem(out), 0, t.byteSize());
            return withScales(out, t.scales() == null ? null : transfer(t.scales()));
        }
        if (t.storage() instanceof HostStorage hs) {
            MemorySegment seg = hs.segment().asSlice(t.byteOffset(), t.byteSize());
            return fromHost(seg, t.dtype(), t.shape(), t.scales());
        }
        return switch (t.dtype()) {
            case I64, I32 -> cast64(fromArray(t.toLongArray(), t.shape()), t.dtype());
            case F32 -> fromArray(t.toFloatArray(), t.shape());
            case F16, BF16 -> cast(fromArray(t.toFloatArray(), t.shape()), t.dtype());
            case I8 -> throw new IllegalArgumentException("cannot transfer an I8 tensor from " + t.backend().name()
                    + "; transfer it as F32");
        };
    }

    private Tensor withScales(Tensor t, Tensor scales) {
        return scales == null ? t : Tensor.borrowed(this, t.storage(), 0, t.shape(), t.dtype(), scales);
    }

    /** An I64 tensor narrowed to I32 on the host when the source was I32 (transfers only). */
    private Tensor cast64(Tensor i64, DType want) {
        if (want == DType.I64) {
            return i64;
        }
        long[] v = toLongArray(i64);
        MemorySegment seg = MemorySegment.ofArray(new int[v.length]);
        for (int i = 0; i < v.length; i++) {
            seg.setAtIndex(ValueLayout.JAVA_INT, i, (int) v[i]);
        }
        return fromHost(seg, DType.I32, i64.shape(), null);
    }

    @Override
    public Tensor cast(Tensor x, DType dtype) {
        if (x.dtype() == dtype) {
            return x;
        }
        int outType = switch (dtype) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            default -> -1;
        };
        if (outType < 0 || !(x.dtype().isFloating() || x.dtype() == DType.I8)) {
            throw new IllegalArgumentException("cast from " + x.dtype() + " to " + dtype + " is not supported");
        }
        Tensor out = allocate(dtype, x.shape());
        try (Operands op = new Operands()) {
            Operands.Weight w = op.weight(x);
            rt.kernel("cast").i((int) x.numel()).mem(w.mem()).i(w.type()).mem(w.scales()).i(w.rowLen()).i(outType)
                    .mem(mem(out)).run(new long[] {x.numel()}, null);
        }
        return out;
    }

    // ---------------------------------------------------------------- linear algebra

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB, float alpha, Tensor bias, float beta,
            Tensor c) {
        OpShapes.Gemm g = OpShapes.matmul(a, b, transA, transB, bias, c);
        Tensor out = allocate(DType.F32, g.out());
        try (Operands op = new Operands()) {
            Operands.Weight w = op.weight(b);
            int tm = rt.tile * rt.wpt;
            rt.kernel("gemm").i(g.m()).i(g.n()).i(g.k())
                    .mem(op.f32(a)).flag(transA).i(g.m() * g.k())
                    .mem(w.mem()).i(w.type()).mem(w.scales()).i(w.rowLen()).flag(transB)
                    .i(g.sharedB() ? 0 : g.k() * g.n())
                    .f(alpha).mem(op.f32OrNull(bias)).flag(bias != null).f(beta).mem(op.f32OrNull(c)).flag(c != null)
                    .mem(mem(out))
                    .run(new long[] {groups(g.n(), tm) * rt.tile, groups(g.m(), tm) * rt.tile, g.batches()},
                            new long[] {rt.tile, rt.tile, 1});
        }
        return out;
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Shape outShape = OpShapes.linear(x, weight, bias);
        Tensor rows = x.reshape(-1, x.dim(-1));
        return matmul(rows, weight, false, true, 1f, bias, 0f, null).reshapeResult(outShape.dims());
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        OpShapes.Conv cv = OpShapes.conv2d(x, weight, bias, stride, padding, dilation);
        return conv(cv, x, weight, bias);
    }

    @Override
    public Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        OpShapes.Conv cv = OpShapes.conv1d(x, weight, bias, stride, padding, dilation);
        return conv(cv, x, weight, bias);
    }

    private Tensor conv(OpShapes.Conv cv, Tensor x, Tensor weight, Tensor bias) {
        Tensor out = allocate(DType.F32, cv.out());
        try (Operands op = new Operands()) {
            Operands.Weight w = op.weight(weight);
            int tm = rt.tile * rt.wpt;
            rt.kernel("conv2d").i(cv.cin()).i(cv.h()).i(cv.w()).i(cv.cout()).i(cv.kh()).i(cv.kw()).i(cv.oh())
                    .i(cv.ow()).i(cv.sh()).i(cv.sw()).i(cv.ph()).i(cv.pw()).i(cv.dh()).i(cv.dw())
                    .mem(op.f32(x)).mem(w.mem()).i(w.type()).mem(w.scales())
                    .mem(op.f32OrNull(bias)).flag(bias != null).mem(mem(out))
                    .run(new long[] {groups((long) cv.oh() * cv.ow(), tm) * rt.tile, groups(cv.cout(), tm) * rt.tile,
                            cv.batch()}, new long[] {rt.tile, rt.tile, 1});
        }
        return out;
    }

    @Override
    public Tensor convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding,
            int dilation) {
        Shape outShape = OpShapes.convTranspose1d(x, weight, bias, stride, padding, outputPadding, dilation);
        int batch = x.dim(0);
        int cout = weight.dim(1);
        int outLen = outShape.dim(2);
        Tensor out = allocate(DType.F32, outShape);
        try (Operands op = new Operands()) {
            Operands.Weight w = op.weight(weight);
            rt.kernel("conv_transpose1d").i(x.dim(1)).i(x.dim(2)).i(cout).i(weight.dim(2)).i(outLen).i(stride)
                    .i(padding).i(dilation).mem(op.f32(x)).mem(w.mem()).i(w.type()).mem(w.scales())
                    .mem(op.f32OrNull(bias)).flag(bias != null).mem(mem(out))
                    .run(new long[] {outLen, cout, batch}, null);
        }
        return out;
    }

    // ---------------------------------------------------------------- normalisation

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        OpShapes.groupNorm(x, groups, gamma, beta);
        int spatial = Math.toIntExact(x.shape().inner(1));
        return normalise(x, x.dim(0) * groups, groups, x.dim(1) / groups, spatial, gamma, beta, eps, silu);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        int d = OpShapes.layerNorm(x, gamma, beta);
        // LayerNorm is a GroupNorm of [rows, d] with one group and no spatial dims.
        return normalise(x, Math.toIntExact(x.numel() / d), 1, d, 1, gamma, beta, eps, false);
    }

    private Tensor normalise(Tensor x, int rows, int groups, int cpg, int spatial, Tensor gamma, Tensor beta,
            float eps, boolean silu) {
        Tensor out = allocate(DType.F32, x.shape());
        try (Operands op = new Operands()) {
            rt.kernel("group_norm").i(groups).i(cpg).i(spatial).f(eps).flag(silu).mem(op.f32(x))
                    .mem(op.f32OrNull(gamma)).flag(gamma != null).mem(op.f32OrNull(beta)).flag(beta != null)
                    .mem(mem(out)).local(4L * rt.rowGroup)
                    .run(new long[] {(long) rows * rt.rowGroup}, new long[] {rt.rowGroup});
        }
        return out;
    }

    @Override
    public Tensor softmax(Tensor x) {
        return rowOp("softmax_rows", x, OpShapes.lastDim("softmax", x), null);
    }

    @Override
    public Tensor l2Normalize(Tensor x, float eps) {
        return rowOp("l2_normalize_rows", x, OpShapes.lastDim("l2Normalize", x), eps);
    }

    /** A kernel with one work-group per row of the last dim: (d, [eps], x, out, scratch). */
    private Tensor rowOp(String kernel, Tensor x, int d, Float eps) {
        Tensor out = allocate(DType.F32, x.shape());
        try (Operands op = new Operands()) {
            ClRuntime.Launch l = rt.kernel(kernel).i(d);
            if (eps != null) {
                l.f(eps);
            }
            l.mem(op.f32(x)).mem(mem(out)).local(4L * rt.rowGroup)
                    .run(new long[] {x.numel() / d * rt.rowGroup}, new long[] {rt.rowGroup});
        }
        return out;
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        OpShapes.Attention at = OpShapes.attention(q, k, v, mask);
        int[] maskStrides = at.maskStridesInt();
        int bh = at.batch() * at.heads();
        int lq = at.lq();
        int d = at.d();
        int dv = at.dv();
        // Queries per work-group: as many as local memory holds next to one key/value tile.
        long perQuery = 4L * (d + dv);
        long budget = rt.device.localMem() - 1024 - rt.attentionKeys * perQuery;
        int block = (int) Math.min(Math.min(rt.device.cpu() ? 16 : 64, rt.device.maxWorkGroup()),
                budget / perQuery);
        if (block < 1) {
            throw new IllegalArgumentException("attention head dims d " + d + " + dv " + dv + " do not fit the "
                    + ClDevice.bytes(rt.device.localMem()) + " local memory of " + name);
        }
        Tensor out = allocate(DType.F32, at.out());
        try (Operands op = new Operands()) {
            rt.kernel("attention").i(at.heads()).i(lq).i(at.lk()).i(d).i(dv).f(scale)
                    .mem(op.f32(q)).mem(op.f32(k)).mem(op.f32(v)).mem(op.f32OrNull(mask)).flag(mask != null)
                    .ints(maskStrides).mem(mem(out))
                    .local(4L * block * d).local(4L * block * dv)
                    .local(4L * rt.attentionKeys * d).local(4L * rt.attentionKeys * dv)
                    .run(new long[] {groups(lq, block) * block, bh}, new long[] {block, 1});
        }
        return out;
    }

    // ---------------------------------------------------------------- element-wise

    @Override
    public Tensor unary(UnaryOp op, Tensor x, float param) {
        Tensor out = allocate(DType.F32, x.shape());
        try (Operands o = new Operands()) {
            rt.kernel("unary").i(op.ordinal()).f(param).i((int) x.numel()).mem(o.f32(x)).mem(mem(out))
                    .run(new long[] {x.numel()}, null);
        }
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Shapes.checkRank("binary " + op, Math.max(a.rank(), b.rank()));
        OpShapes.Broadcast bc = OpShapes.broadcast(op, a, b);
        Tensor out = allocate(DType.F32, bc.out());
        try (Operands o = new Operands()) {
            rt.kernel("binary_broadcast").i(op.ordinal()).i((int) out.numel()).i(bc.out().rank())
                    .ints(Shapes.pad8(bc.out().dims())).ints(Shapes.pad8(bc.stridesA()))
                    .ints(Shapes.pad8(bc.stridesB())).mem(o.f32(a)).mem(o.f32(b)).mem(mem(out))
                    .run(new long[] {out.numel()}, null);
        }
        return out;
    }

    @Override
    public Tensor scalar(BinaryOp op, Tensor x, float s) {
        Tensor out = allocate(DType.F32, x.shape());
        try (Operands o = new Operands()) {
            rt.kernel("scalar_op").i(op.ordinal()).f(s).i((int) x.numel()).mem(o.f32(x)).mem(mem(out))
                    .run(new long[] {x.numel()}, null);
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
        long esz = first.dtype().byteSize();
        long outer = first.shape().outer(d);
        long inner = first.shape().inner(d);
        long at = 0;
        for (Tensor p : parts) {
            long run = p.dim(d) * inner * esz;
            rt.copyRows(mem(p), p.byteOffset(), run, mem(out), at, total * inner * esz, run, outer);
            at += run;
        }
        return out;
    }

    @Override
    public Tensor slice(Tensor x, int dim, int start, int end) {
        int d = OpShapes.slice(x, dim, start, end);
        Tensor out = allocate(x.dtype(), x.shape().with(d, end - start));
        long rowBytes = x.shape().inner(d) * x.dtype().byteSize();
        long run = (end - start) * rowBytes;
        rt.copyRows(mem(x), x.byteOffset() + start * rowBytes, x.dim(d) * rowBytes, mem(out), 0, run, run,
                x.shape().outer(d));
        return out;
    }

    @Override
    public Tensor permute(Tensor x, int... perm) {
        OpShapes.Permute pm = OpShapes.permute(x, perm);
        Shapes.checkRank("permute", x.rank());
        int[] outDims = pm.out().dims();
        Tensor out = allocate(x.dtype(), pm.out());
        try (Operands o = new Operands()) {
            rt.kernel("gather_" + x.dtype().byteSize()).i((int) out.numel()).i(perm.length)
                    .ints(Shapes.pad8(outDims)).ints(Shapes.pad8(pm.srcStrides())).mem(o.raw(x)).mem(mem(out))
                    .run(new long[] {out.numel()}, null);
        }
        return out;
    }

    @Override
    public Tensor upsampleNearest(Tensor x, int outH, int outW) {
        Tensor out = allocate(x.dtype(), OpShapes.upsampleNearest(x, outH, outW));
        try (Operands o = new Operands()) {
            rt.kernel("upsample_nearest_" + x.dtype().byteSize()).i(x.dim(2)).i(x.dim(3)).i(outH).i(outW)
                    .f((float) x.dim(2) / outH).f((float) x.dim(3) / outW).mem(o.raw(x)).mem(mem(out))
                    .run(new long[] {outW, outH, (long) x.dim(0) * x.dim(1)}, null);
        }
        return out;
    }

    @Override
    public Tensor pad(Tensor x, int[] pads, float value) {
        OpShapes.Pad pd = OpShapes.pad(x, pads);
        int rank = x.rank();
        Shapes.checkRank("pad", rank);
        int[] before = pd.before();
        int[] outDims = pd.out().dims();
        Tensor out = allocate(x.dtype(), pd.out());
        try (Operands o = new Operands()) {
            rt.kernel("pad_" + x.dtype().byteSize()).i((int) out.numel()).i(rank).ints(Shapes.pad8(outDims))
                    .ints(Shapes.pad8(x.shape().dims())).ints(Shapes.pad8(before)).bytes(elementBytes(x.dtype(), value))
                    .mem(o.raw(x)).mem(mem(out)).run(new long[] {out.numel()}, null);
        }
        return out;
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
        try (Operands o = new Operands()) {
            rt.kernel(name).i(g.length()).i(g.k()).i(g.pad()).i(g.outLength()).mem(o.f32(x)).mem(o.f32(kernel))
                    .mem(mem(out)).run(new long[] {g.outLength(), g.rows()}, null);
        }
        return out;
    }

    /** {@code value} as one element of {@code dtype}, little-endian (the device's byte order). */
    private static byte[] elementBytes(DType dtype, float value) {
        ByteBuffer b = ByteBuffer.allocate(dtype.byteSize()).order(ByteOrder.nativeOrder());
        switch (dtype) {
            case F32 -> b.putFloat(value);
            case F16 -> b.putShort(DType.f32ToF16(value));
            case BF16 -> b.putShort(DType.f32ToBf16(value));
            case I32 -> b.putInt((int) value);
            case I64 -> b.putLong((long) value);
            case I8 -> throw new IllegalArgumentException("cannot pad an I8 tensor");
        }
        return b.array();
    }

    @Override
    public Tensor embedding(Tensor ids, Tensor table) {
        Shape outShape = OpShapes.embedding(ids, table);
        // Ids are few (tokens): checking them on the host gives a clear error for a bad one.
        long[] idv = toLongArray(ids);
        OpShapes.embeddingIds(idv, table);
        int d = table.dim(1);
        Tensor out = allocate(DType.F32, outShape);
        try (Operands o = new Operands()) {
            Operands.Weight w = o.weight(table);
            rt.kernel("embedding").i(d).mem(o.raw(ids)).flag(ids.dtype() == DType.I64).mem(w.mem()).i(w.type())
                    .mem(w.scales()).mem(mem(out)).run(new long[] {d, idv.length}, null);
        }
        return out;
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
        int d = x.shape().axis(dim);
        int outer = Math.toIntExact(x.shape().outer(d));
        int inner = Math.toIntExact(x.shape().inner(d));
        Shape kept = x.shape().with(d, 1);
        Tensor out = allocate(DType.F32, kept);
        try (Operands o = new Operands()) {
            rt.kernel("reduce_dim").i(outer).i(x.dim(d)).i(inner).flag(mean).mem(o.f32(x)).mem(mem(out))
                    .run(new long[] {(long) outer * inner}, null);
        }
        return keepDim ? out : out.reshapeResult(OpShapes.reduced(x.shape(), d, false).dims());
    }

    // ---------------------------------------------------------------- helpers

    private static long groups(long n, long per) {
        return (n + per - 1) / per;
    }

    /** The buffer of a tensor of this backend (element 0 at {@link Tensor#byteOffset()}). */
    private cl_mem mem(Tensor t) {
        if (t.backend() != this || !(t.storage() instanceof ClStorage cs)) {
            throw new IllegalArgumentException(t + " is not a tensor of " + name + "; transfer it first");
        }
        return cs.mem();
    }

    /**
     * The input buffers of one op, as kernels want them: at offset 0 (views are copied) and, for
     * activations, F32. Temporary buffers are released on close, which is safe right after the
     * launch: OpenCL keeps a buffer alive until the commands using it are done.
     */
    private final class Operands implements AutoCloseable {
        private final List<ClStorage> temps = new ArrayList<>();

        /** A weight operand: its buffer, dtype code for load_w, scales (I8) and elements per dim-0 entry. */
        record Weight(cl_mem mem, int type, cl_mem scales, int rowLen) {
        }

        /** Any dtype, at offset 0. */
        cl_mem raw(Tensor t) {
            cl_mem m = mem(t);
            if (t.byteOffset() == 0) {
                return m;
            }
            ClStorage copy = rt.allocate(t.byteSize());
            temps.add(copy);
            rt.copy(m, t.byteOffset(), copy.mem(), 0, t.byteSize());
            return copy.mem();
        }

        /** An activation as F32 (other float dtypes are widened into a temporary). */
        cl_mem f32(Tensor t) {
            if (t.dtype() == DType.F32) {
                return raw(t);
            }
            if (!t.dtype().isFloating() && t.dtype() != DType.I8) {
                throw new IllegalArgumentException("expected a floating tensor, got " + t);
            }
            Weight w = weight(t);
            ClStorage wide = rt.allocate(4 * t.numel());
            temps.add(wide);
            rt.kernel("cast").i((int) t.numel()).mem(w.mem()).i(w.type()).mem(w.scales()).i(w.rowLen()).i(0)
                    .mem(wide.mem()).run(new long[] {t.numel()}, null);
            return wide.mem();
        }

        cl_mem f32OrNull(Tensor t) {
            return t == null ? null : f32(t);
        }

        Weight weight(Tensor t) {
            int type = switch (t.dtype()) {
                case F32 -> 0;
                case F16 -> 1;
                case BF16 -> 2;
                case I8 -> 3;
                default -> throw new IllegalArgumentException("a weight must be F32, F16, BF16 or I8, got " + t);
            };
            int rowLen = t.rank() == 0 || t.dim(0) == 0 ? 1 : Math.toIntExact(t.numel() / t.dim(0));
            return new Weight(raw(t), type, t.scales() == null ? null : f32(t.scales()), Math.max(rowLen, 1));
        }

        @Override
        public void close() {
            temps.forEach(ClStorage::close);
        }
    }

    // ---------------------------------------------------------------- gated activation (Stable Audio DiT)

    @Override
    public Tensor swiglu(Tensor x) {
        int n = OpShapes.swiglu(x);
        int[] dims = x.shape().dims();
        dims[dims.length - 1] = n;
        Tensor out = allocate(DType.F32, Shape.of(dims));
        if (out.numel() > 0) {
            try (Operands o = new Operands()) {
                rt.kernel("swiglu").i(n).i(Math.toIntExact(out.numel())).mem(o.f32(x)).mem(mem(out))
                        .run(new long[] {out.numel()}, null);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- audio activations (Stable Audio)

    @Override
    public Tensor snake(Tensor x, Tensor alpha, Tensor invBeta) {
        OpShapes.snake(x, alpha, invBeta);
        Tensor out = allocate(DType.F32, x.shape());
        if (x.numel() > 0) {
            try (Operands o = new Operands()) {
                rt.kernel("snake").i(x.dim(1)).i(x.dim(2)).i(Math.toIntExact(x.numel())).mem(o.f32(x))
                        .mem(o.f32(alpha)).mem(o.f32(invBeta)).mem(mem(out)).run(new long[] {x.numel()}, null);
            }
        }
        return out;
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        int d = OpShapes.rmsNorm(x, weight);
        Tensor out = allocate(DType.F32, x.shape());
        int rows = Math.toIntExact(x.numel() / d);
        if (rows > 0) {
            try (Operands o = new Operands()) {
                rt.kernel("rms_norm").i(d).i(rows).f(eps).mem(o.f32(x)).mem(o.f32(weight)).mem(mem(out))
                        .run(new long[] {rows}, null);
            }
        }
        return out;
    }

    @Override
    public Tensor rotary(Tensor x, Tensor cos, Tensor sin) {
        int r = OpShapes.rotary(x, cos, sin);
        Tensor out = allocate(DType.F32, x.shape());
        if (x.numel() > 0) {
            try (Operands o = new Operands()) {
                rt.kernel("rotary").i(x.dim(3)).i(r).i(x.dim(2)).i(Math.toIntExact(x.numel())).mem(o.f32(x))
                        .mem(o.f32(cos)).mem(o.f32(sin)).mem(mem(out)).run(new long[] {x.numel()}, null);
            }
        }
        return out;
    }

    /** Releases the device context; tensors of this backend must not be used afterwards. */
    @Override
    public void close() {
        synchronized (OpenClBackend.class) {
            OPEN.values().remove(this);
        }
        rt.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
