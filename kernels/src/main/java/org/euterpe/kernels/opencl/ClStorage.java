package org.euterpe.kernels.opencl;

import java.util.concurrent.atomic.AtomicInteger;

import org.euterpe.tensor.Storage;
import org.jocl.CL;
import org.jocl.cl_mem;

/** A device buffer. Closing releases it; the backend counts live buffers (for leak tests). */
final class ClStorage implements Storage {
    private cl_mem mem;
    private final long byteSize;
    private final AtomicInteger live;

    ClStorage(cl_mem mem, long byteSize, AtomicInteger live) {
        this.mem = mem;
        this.byteSize = byteSize;
        this.live = live;
        live.incrementAndGet();
    }

    /** The buffer; throws when closed. */
    cl_mem mem() {
        cl_mem m = mem;
        if (m == null) {
            throw new IllegalStateException("OpenCL buffer used after close");
        }
        return m;
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    @Override
    public synchronized boolean isClosed() {
        return mem == null;
    }

    @Override
    public synchronized void close() {
        if (mem != null) {
            // Safe while kernels using it are queued: OpenCL frees it once they are done.
            CL.clReleaseMemObject(mem);
            mem = null;
            live.decrementAndGet();
        }
    }
}
