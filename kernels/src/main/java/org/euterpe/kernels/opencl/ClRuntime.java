package org.euterpe.kernels.opencl;

import static org.jocl.CL.*;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * A device's context, its one in-order command queue, the built program and its kernels, and
 * buffer allocation. Commands are only waited for where results cross to the host (reads).
 * Launches are serialised, since kernel objects hold their arguments.
 */
final class ClRuntime implements AutoCloseable {
    final ClDevice device;
    /** Work-group edge of the tiled GEMM kernels; each work-item computes WPT x WPT outputs. */
    final int tile;
    final int wpt;
    /** Keys per tile in the attention kernel. */
    final int attentionKeys = 16;
    /** Work-group size of the row kernels (norms, softmax): a power of two. */
    final int rowGroup;
    final boolean fromCache;

    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_program program;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final AtomicInteger liveBuffers = new AtomicInteger();
    /** A 4-byte buffer bound to pointer arguments an op does not use (flags say so). */
    private final cl_mem unused;

    ClRuntime(ClDevice device, Path cacheDir) {
        this.device = device;
        // CPU devices run a work-group as a loop: small tiles, more register blocking.
        this.tile = device.cpu() ? 8 : device.maxWorkGroup() >= 256 ? 16 : 8;
        this.wpt = 4;
        this.rowGroup = device.cpu() ? 16 : (int) Math.min(256, Long.highestOneBit(device.maxWorkGroup()));
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, device.platform());
        this.context = clCreateContext(props, 1, new cl_device_id[] {device.id()}, null, null, null);
        this.queue = clCreateCommandQueue(context, device.id(), 0, null);
        String options = "-D TILE=" + tile + " -D WPT=" + wpt + " -D BK=" + attentionKeys;
        ProgramBuilder.Built built;
        try {
            built = ProgramBuilder.build(context, device, ProgramBuilder.bundledSources(), options, cacheDir);
        } catch (RuntimeException e) {
            clReleaseCommandQueue(queue);
            clReleaseContext(context);
            throw e;
        }
        this.program = built.program();
        this.fromCache = built.fromCache();
        this.unused = clCreateBuffer(context, CL_MEM_READ_WRITE, 4, null, null);
    }

    /** Buffers allocated and not yet released. */
    int liveBuffers() {
        return liveBuffers.get();
    }

    // ---------------------------------------------------------------- memory

    /**
     * A new uninitialised buffer of {@code bytes} (at least 1).
     *
     * @throws DeviceMemoryException when the device cannot hold it
     */
    ClStorage allocate(long bytes) {
        long size = Math.max(bytes, 1);
        if (size > device.maxAlloc()) {
            throw new DeviceMemoryException("cannot allocate " + ClDevice.bytes(size) + " (" + size + " bytes) on "
                    + where() + ": the device's largest buffer is " + ClDevice.bytes(device.maxAlloc()), size, null);
        }
        try {
            cl_mem m = clCreateBuffer(context, CL_MEM_READ_WRITE, size, null, null);
            return new ClStorage(m, size, liveBuffers);
        } catch (CLException e) {
            throw memoryError(e, "allocating " + ClDevice.bytes(size) + " (" + size + " bytes)", size);
        }
    }

    void fillZero(cl_mem m, long bytes) {
        if (bytes > 0) {
            enqueue("zero fill", () -> clEnqueueFillBuffer(queue, m, Pointer.to(new byte[1]), 1, 0, bytes, 0, null,
                    null), bytes);
        }
    }

    void write(cl_mem m, long offset, ByteBuffer data) {
        long n = data.remaining();
        enqueue("upload", () -> clEnqueueWriteBuffer(queue, m, CL_TRUE, offset, n, Pointer.to(data), 0, null, null),
                n);
    }

    void write(cl_mem m, float[] data) {
        if (data.length > 0) {
            enqueue("upload", () -> clEnqueueWriteBuffer(queue, m, CL_TRUE, 0, 4L * data.length, Pointer.to(data), 0,
                    null, null), 4L * data.length);
        }
    }

    void write(cl_mem m, long[] data) {
        if (data.length > 0) {
            enqueue("upload", () -> clEnqueueWriteBuffer(queue, m, CL_TRUE, 0, 8L * data.length, Pointer.to(data), 0,
                    null, null), 8L * data.length);
        }
    }

    /** Blocking read of {@code dst.length} bytes at {@code offset}: waits for the queue. */
    void read(cl_mem m, long offset, byte[] dst) {
        if (dst.length > 0) {
            enqueue("download", () -> clEnqueueReadBuffer(queue, m, CL_TRUE, offset, dst.length, Pointer.to(dst), 0,
                    null, null), 0);
        }
    }

    void read(cl_mem m, long offset, float[] dst) {
        if (dst.length > 0) {
            enqueue("download", () -> clEnqueueReadBuffer(queue, m, CL_TRUE, offset, 4L * dst.length,
                    Pointer.to(dst), 0, null, null), 0);
        }
    }

    void copy(cl_mem src, long srcOffset, cl_mem dst, long dstOffset, long bytes) {
        if (bytes > 0) {
            enqueue("copy", () -> clEnqueueCopyBuffer(queue, src, dst, srcOffset, dstOffset, bytes, 0, null, null),
                    0);
        }
    }

    /**
     * Copies {@code rows} runs of {@code run} bytes: run r goes from {@code srcOffset + r * srcPitch}
     * to {@code dstOffset + r * dstPitch} (concat and slice).
     */
    void copyRows(cl_mem src, long srcOffset, long srcPitch, cl_mem dst, long dstOffset, long dstPitch, long run,
            long rows) {
        if (run > 0 && rows > 0) {
            enqueue("copy", () -> clEnqueueCopyBufferRect(queue, src, dst, new long[] {srcOffset, 0, 0},
                    new long[] {dstOffset, 0, 0}, new long[] {run, rows, 1}, srcPitch, srcPitch * rows, dstPitch,
                    dstPitch * rows, 0, null, null), 0);
        }
    }

    // ---------------------------------------------------------------- kernels

    /** Starts a launch of kernel {@code name}; add its arguments in order, then {@link Launch#run}. */
    Launch kernel(String name) {
        return new Launch(name);
    }

    /** Arguments of one kernel launch, set and enqueued together. */
    final class Launch {
        private final String name;
        private final List<Object[]> args = new ArrayList<>(); // {size, Pointer or null for __local}

        private Launch(String name) {
            this.name = name;
        }

        Launch mem(cl_mem m) {
            return add(Sizeof.cl_mem, Pointer.to(m == null ? unused : m));
        }

        Launch i(int v) {
            return add(Sizeof.cl_int, Pointer.to(new int[] {v}));
        }

        Launch f(float v) {
            return add(Sizeof.cl_float, Pointer.to(new float[] {v}));
        }

        Launch flag(boolean v) {
            return i(v ? 1 : 0);
        }

        /** An int4 (4 values) or int8 (8 values) vector argument. */
        Launch ints(int[] v) {
            return add(v.length == 8 ? Sizeof.cl_int8 : Sizeof.cl_int4, Pointer.to(v));
        }

        /** An argument of {@code bytes.length} raw bytes (an element value of any type). */
        Launch bytes(byte[] v) {
            return add(v.length, Pointer.to(v));
        }

        /** A __local buffer of {@code bytes}. */
        Launch local(long bytes) {
            return add(bytes, null);
        }

        private Launch add(long size, Pointer p) {
            args.add(new Object[] {size, p});
            return this;
        }

        /** Enqueues over {@code global} work-items (in groups of {@code local}, or any when null). */
        void run(long[] global, long[] local) {
            for (long g : global) {
                if (g == 0) {
                    return; // nothing to compute; OpenCL rejects empty ranges
                }
            }
            synchronized (ClRuntime.this) {
                cl_kernel k = kernels.computeIfAbsent(name, n -> clCreateKernel(program, n, null));
                for (int a = 0; a < args.size(); a++) {
                    clSetKernelArg(k, a, (Long) args.get(a)[0], (Pointer) args.get(a)[1]);
                }
                enqueue("kernel " + name, () -> clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0,
                        null, null), 0);
            }
        }
    }

    // ---------------------------------------------------------------- errors

    private void enqueue(String what, Runnable command, long bytes) {
        try {
            command.run();
        } catch (CLException e) {
            throw memoryError(e, what, bytes);
        }
    }

    /** Out-of-memory statuses become {@link DeviceMemoryException}; others an IllegalStateException. */
    private RuntimeException memoryError(CLException e, String what, long bytes) {
        int s = e.getStatus();
        if (s == CL_MEM_OBJECT_ALLOCATION_FAILURE || s == CL_OUT_OF_RESOURCES || s == CL_OUT_OF_HOST_MEMORY
                || s == CL_INVALID_BUFFER_SIZE) {
            return new DeviceMemoryException("out of memory on " + where() + " while " + what
                    + (bytes > 0 ? " (" + bytes + " bytes requested)" : "") + ": " + stringFor_errorCode(s), bytes, e);
        }
        return new IllegalStateException("OpenCL error on " + where() + " while " + what + ": "
                + stringFor_errorCode(s), e);
    }

    private String where() {
        return device.deviceName() + " (" + device.name() + ", " + ClDevice.bytes(device.globalMem()) + ")";
    }

    /** Waits for every queued command. */
    void finish() {
        clFinish(queue);
    }

    @Override
    public synchronized void close() {
        clFinish(queue);
        kernels.values().forEach(org.jocl.CL::clReleaseKernel);
        kernels.clear();
        clReleaseMemObject(unused);
        clReleaseProgram(program);
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
