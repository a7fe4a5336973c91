package org.euterpe.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The backend's count of live storages, which the device kit's leak check reads on a GPU: every
 * allocation is counted with its bytes, and closing a scope gives them all back. Runs on a device
 * that hands out fake addresses, so it needs no GPU.
 */
class CudaLiveMemoryTest {
    @Test
    void scopeClosesEveryCountedStorage() {
        CudaBackend b = new CudaBackend(new NullDevice(), "cuda:null", false);
        assertEquals(0, b.liveBuffers());
        try (Scope _ = Scope.open()) {
            b.zeros(DType.F32, Shape.of(3, 5));
            b.fromArray(new long[] {1, 2}, Shape.of(2));
            b.fromHost(MemorySegment.ofArray(new short[4]), DType.F16, Shape.of(4), null);
            assertEquals(3, b.liveBuffers());
            assertEquals(15 * 4 + 2 * 8 + 4 * 2, b.liveBytes());
            try (Scope _ = Scope.open()) {
                Tensor t = b.zeros(DType.BF16, Shape.of(7));
                assertEquals(4, b.liveBuffers());
                t.close();
                assertEquals(3, b.liveBuffers(), "a tensor closed early is uncounted at once");
            }
            assertEquals(3, b.liveBuffers());
        }
        assertEquals(0, b.liveBuffers());
        assertEquals(0, b.liveBytes());
        assertNull(b.deviceMemory(), "a device that cannot say reports no memory figures");
    }

    /** Fake addresses; copies and launches do nothing. */
    private static final class NullDevice implements CudaDevice {
        @Override
        public CUdeviceptr allocate(long bytes) {
            return new CUdeviceptr();
        }

        @Override
        public void release(CUdeviceptr p, long bytes) {
        }

        @Override
        public void upload(CUdeviceptr dst, Pointer src, long bytes) {
        }

        @Override
        public void upload(CUdeviceptr dst, MemorySegment src) {
        }

        @Override
        public void download(Pointer dst, CUdeviceptr src, long bytes) {
        }

        @Override
        public void launch(String name, int[] grid, int block, KernelArgs args) {
        }

        @Override
        public boolean hasTensorCores() {
            return false;
        }

        @Override
        public String describe() {
            return "null device";
        }

        @Override
        public void close() {
        }
    }
}
