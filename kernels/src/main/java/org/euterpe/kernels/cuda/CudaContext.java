package org.euterpe.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static org.euterpe.kernels.cuda.CudaException.check;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;

/**
 * One CUDA device as the backend sees it: a context, the kernel modules loaded from the committed
 * PTX, memory (through a {@link BufferPool}), copies and launches. Every launch goes to the
 * default stream, so ops run in program order and a host read waits for the kernels before it.
 *
 * <p>Driver calls bind the context to the calling thread first, so the backend may be used from
 * any thread (one at a time per op).
 */
final class CudaContext implements CudaDevice {
    /** The kernel modules every device loads: resources {@code <name>.ptx}, built for compute_75. */
    static final List<String> MODULES = List.of("attention", "elementwise", "gemm", "movement", "norm", "resample",
            "snake", "stable_audio", "swiglu");
    /** The tensor-core module: {@code mma.sm80.ptx}, loaded on compute capability 8.0 and newer. */
    static final String MMA_MODULE = "mma.sm80";

    private static final String RESOURCES = "/org/euterpe/kernels/cuda/";
    private static final long STAGING_BYTES = 64L << 20;

    private final int ordinal;
    private final String deviceName;
    private final int ccMajor;
    private final int ccMinor;
    private final long totalMemory;
    private final CUcontext context;
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final BufferPool pool;
    private volatile boolean closed;

    private CudaContext(int ordinal, CUdevice device) {
        this.ordinal = ordinal;
        byte[] name = new byte[256];
        check(cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) {
            len++;
        }
        this.deviceName = new String(name, 0, len, StandardCharsets.UTF_8);
        this.ccMajor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.ccMinor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        long[] mem = {0};
        check(cuDeviceTotalMem(mem, device), "cuDeviceTotalMem");
        this.totalMemory = mem[0];
        this.context = new CUcontext();
        check(cuCtxCreate(context, 0, device), "cuCtxCreate on CUDA device " + ordinal);
        this.pool = new BufferPool(totalMemory / 4);
    }

    /** Initialises the driver and opens device {@code ordinal}, loading every kernel module. */
    static CudaContext open(int ordinal) {
        check(cuInit(0), "cuInit");
        int[] count = {0};
        check(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count[0]) {
            throw new IllegalStateException("no CUDA device " + ordinal + " (the driver reports " + count[0]
                    + " device" + (count[0] == 1 ? "" : "s") + ")");
        }
        CUdevice device = new CUdevice();
        check(cuDeviceGet(device, ordinal), "cuDeviceGet");
        CudaContext ctx = new CudaContext(ordinal, device);
        try {
            for (String m : MODULES) {
                ctx.loadModule(m);
            }
            if (ctx.hasTensorCores()) {
                ctx.loadModule(MMA_MODULE);
            }
            return ctx;
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /** Whether the m16n8k16 tensor-core kernels run here (compute capability 8.0+). */
    @Override
    public boolean hasTensorCores() {
        return ccMajor >= 8;
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] v = {0};
        check(cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute");
        return v[0];
    }

    private void loadModule(String name) {
        byte[] ptx = resource(name + ".ptx");
        byte[] image = Arrays.copyOf(ptx, ptx.length + 1); // the driver reads a NUL-terminated string
        CUmodule module = new CUmodule();
        int rc = cuModuleLoadData(module, image);
        if (rc == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION || rc == CUresult.CUDA_ERROR_INVALID_PTX) {
            int[] version = {0};
            cuDriverGetVersion(version);
            throw new CudaException("the CUDA kernels (" + name + ".ptx, PTX ISA 9.0 from CUDA 13) need an R580 or"
                    + " newer NVIDIA driver; this driver supports CUDA " + version[0] / 1000 + "." + version[0] % 1000 / 10
                    + " (" + CUresult.stringFor(rc) + ")", rc);
        }
        check(rc, "loading kernel module " + name + ".ptx");
        for (String entry : entries(ptx)) {
            CUfunction f = new CUfunction();
            check(cuModuleGetFunction(f, module, entry), "cuModuleGetFunction " + entry);
            functions.put(entry, f);
        }
    }

    /** The kernel names a PTX text defines ({@code .visible .entry NAME(}). */
    static List<String> entries(byte[] ptx) {
        return new String(ptx, StandardCharsets.US_ASCII).lines()
                .filter(l -> l.startsWith(".visible .entry "))
                .map(l -> l.substring(".visible .entry ".length()).replaceAll("\\(.*", "").trim())
                .toList();
    }

    /** The bytes of a committed PTX resource. */
    static byte[] resource(String file) {
        try (InputStream in = CudaContext.class.getResourceAsStream(RESOURCES + file)) {
            if (in == null) {
                throw new IllegalStateException("kernel resource " + RESOURCES + file + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void bind() {
        if (closed) {
            throw new IllegalStateException("CUDA backend on device " + ordinal + " used after close");
        }
        check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    // ---------------------------------------------------------------- memory

    /**
     * Device memory of {@code bytes} (at least 1), from the pool when a buffer of that size is
     * free. Out of memory: the pool is returned to the driver and the allocation tried once more.
     */
    @Override
    public CUdeviceptr allocate(long bytes) {
        long size = Math.max(bytes, 1);
        CUdeviceptr p = pool.take(size);
        if (p != null) {
            return p;
        }
        bind();
        p = new CUdeviceptr();
        int rc = cuMemAlloc(p, size);
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            pool.drain(CudaContext::free);
            rc = cuMemAlloc(p, size);
            if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                throw new CudaException(String.format("CUDA device %d (%s) is out of memory allocating %d bytes"
                        + " (%.1f MiB) of its %.1f GiB", ordinal, deviceName, size, size / 1048576.0,
                        totalMemory / 1073741824.0), rc);
            }
        }
        check(rc, "cuMemAlloc of " + size + " bytes on CUDA device " + ordinal);
        return p;
    }

    /** After {@link #close} the context has already freed everything, so this does nothing then. */
    @Override
    public void release(CUdeviceptr p, long bytes) {
        if (!closed && !pool.give(p, Math.max(bytes, 1))) {
            bind();
            free(p);
        }
    }

    @Override
    public long[] memoryInfo() {
        bind();
        long[] free = {0};
        long[] total = {0};
        check(cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    private static void free(CUdeviceptr p) {
        cuMemFree(p); // best effort: a failing free leaves nothing to recover
    }

    @Override
    public void upload(CUdeviceptr dst, Pointer src, long bytes) {
        bind();
        check(cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD of " + bytes + " bytes");
    }

    /** Uploads host memory of any kind (heap, native, mapped, above 2 GB) through a staging buffer. */
    @Override
    public void upload(CUdeviceptr dst, MemorySegment src) {
        long n = src.byteSize();
        if (n == 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(Math.min(n, STAGING_BYTES));
            ByteBuffer buffer = staging.asByteBuffer();
            for (long off = 0; off < n; off += staging.byteSize()) {
                long len = Math.min(staging.byteSize(), n - off);
                MemorySegment.copy(src, off, staging, 0, len);
                upload(dst.withByteOffset(off), Pointer.to(buffer), len);
            }
        }
    }

    @Override
    public void download(Pointer dst, CUdeviceptr src, long bytes) {
        bind();
        check(cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH of " + bytes + " bytes (or an earlier kernel)");
    }

    // ---------------------------------------------------------------- launches

    /** Launches kernel {@code name} on the default stream. */
    @Override
    public void launch(String name, int[] grid, int block, KernelArgs args) {
        CUfunction f = functions.get(name);
        if (f == null) {
            throw new IllegalStateException("no CUDA kernel " + name + " is loaded on device " + ordinal);
        }
        if (grid[0] < 1 || grid[1] > 65535 || grid[2] > 65535) {
            throw new IllegalArgumentException("kernel " + name + " needs a grid of " + Arrays.toString(grid)
                    + " blocks, beyond CUDA's limits (y and z at most 65535)");
        }
        bind();
        check(cuLaunchKernel(f, grid[0], grid[1], grid[2], block, 1, 1, 0, null, args.pointer(), null),
                "launching " + name);
    }

    @Override
    public String describe() {
        return String.format("CUDA device %d: %s (compute %d.%d, %.1f GiB)", ordinal, deviceName, ccMajor, ccMinor,
                totalMemory / 1073741824.0);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        cuCtxSetCurrent(context);
        pool.drain(CudaContext::free);
        closed = true;
        cuCtxDestroy(context); // frees whatever tensors still hold
    }
}
