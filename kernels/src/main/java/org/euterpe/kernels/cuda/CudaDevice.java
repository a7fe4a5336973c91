package org.euterpe.kernels.cuda;

import java.lang.foreign.MemorySegment;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * What the backend needs from a GPU: memory, copies and kernel launches. {@link CudaContext} is
 * the real one; tests substitute a recording device to check launches where no GPU exists.
 */
interface CudaDevice extends AutoCloseable {
    /** Device memory of {@code bytes}; a clear exception naming the size when the device is full. */
    CUdeviceptr allocate(long bytes);

    /** Gives memory from {@link #allocate} back (for reuse or to the driver). */
    void release(CUdeviceptr p, long bytes);

    void upload(CUdeviceptr dst, Pointer src, long bytes);

    /** Uploads host memory of any kind (heap, native, mapped, above 2 GB). */
    void upload(CUdeviceptr dst, MemorySegment src);

    /** Waits for the kernels before it, then copies to the host. */
    void download(Pointer dst, CUdeviceptr src, long bytes);

    /** Launches kernel {@code name} with a 1-D block of {@code block} threads. */
    void launch(String name, int[] grid, int block, KernelArgs args);

    /** Whether the tensor-core kernels (mma.sm80) are loaded. */
    boolean hasTensorCores();

    /** {@code {free, total}} bytes of the device as its driver reports them, or null where unknown. */
    default long[] memoryInfo() {
        return null;
    }

    /** The device, for {@link CudaBackend#description()}. */
    String describe();

    @Override
    void close();
}
