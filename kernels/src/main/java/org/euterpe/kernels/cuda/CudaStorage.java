package org.euterpe.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import org.euterpe.tensor.Storage;

/** Device memory of one tensor; closing hands it back to the context's {@link BufferPool}. */
final class CudaStorage implements Storage {
    private final CudaContext context;
    private final long byteSize;
    private CUdeviceptr pointer;

    CudaStorage(CudaContext context, CUdeviceptr pointer, long byteSize) {
        this.context = context;
        this.pointer = pointer;
        this.byteSize = byteSize;
    }

    /** The device address {@code byteOffset} bytes in. */
    CUdeviceptr at(long byteOffset) {
        CUdeviceptr p = pointer;
        if (p == null) {
            throw new IllegalStateException("CUDA tensor storage used after close");
        }
        return byteOffset == 0 ? p : p.withByteOffset(byteOffset);
    }

    CudaContext context() {
        return context;
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    @Override
    public synchronized boolean isClosed() {
        return pointer == null;
    }

    @Override
    public synchronized void close() {
        if (pointer != null) {
            context.release(pointer, byteSize);
            pointer = null;
        }
    }
}
