package org.euterpe.kernels.cuda;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jcuda.driver.CUdeviceptr;
import org.euterpe.tensor.Storage;

/** Device memory of one tensor; closing hands it back to its device (whose pool may reuse it). */
final class CudaStorage implements Storage {
    /** A backend's count of the storages it handed out and that are not closed yet (leak checks). */
    static final class Live {
        final AtomicInteger buffers = new AtomicInteger();
        final AtomicLong bytes = new AtomicLong();
    }

    private final CudaDevice device;
    private final long byteSize;
    private final Live live;
    private CUdeviceptr pointer;

    CudaStorage(CudaDevice device, CUdeviceptr pointer, long byteSize, Live live) {
        this.device = device;
        this.pointer = pointer;
        this.byteSize = byteSize;
        this.live = live;
        live.buffers.incrementAndGet();
        live.bytes.addAndGet(byteSize);
    }

    /** The device address {@code byteOffset} bytes in. */
    CUdeviceptr at(long byteOffset) {
        CUdeviceptr p = pointer;
        if (p == null) {
            throw new IllegalStateException("CUDA tensor storage used after close");
        }
        return byteOffset == 0 ? p : p.withByteOffset(byteOffset);
    }

    CudaDevice device() {
        return device;
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
            device.release(pointer, byteSize);
            pointer = null;
            live.buffers.decrementAndGet();
            live.bytes.addAndGet(-byteSize);
        }
    }
}
