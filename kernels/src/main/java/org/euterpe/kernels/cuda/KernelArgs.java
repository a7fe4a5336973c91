package org.euterpe.kernels.cuda;

import java.util.ArrayList;
import java.util.List;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.euterpe.tensor.Tensor;

/**
 * The parameter list of one kernel launch, in the order of the kernel's C signature: each entry
 * points at host memory holding that parameter's value, as cuLaunchKernel expects.
 */
final class KernelArgs {
    private static final long[] NULL = {0L};
    private final List<Pointer> args = new ArrayList<>();

    /** The device address of {@code t}'s element 0, or a null pointer for a null tensor. */
    KernelArgs tensor(Tensor t) {
        args.add(t == null ? Pointer.to(NULL) : Pointer.to(CudaBackend.storage(t).at(t.byteOffset())));
        return this;
    }

    /** A device address, e.g. a tensor's storage at some element offset. */
    KernelArgs address(CUdeviceptr p) {
        args.add(Pointer.to(p));
        return this;
    }

    KernelArgs i32(int v) {
        args.add(Pointer.to(new int[] {v}));
        return this;
    }

    KernelArgs i64(long v) {
        args.add(Pointer.to(new long[] {v}));
        return this;
    }

    KernelArgs f32(float v) {
        args.add(Pointer.to(new float[] {v}));
        return this;
    }

    KernelArgs f64(double v) {
        args.add(Pointer.to(new double[] {v}));
        return this;
    }

    /** A struct passed by value, given as its 64-bit words (e.g. {@link StridedIndex}). */
    KernelArgs words(long[] v) {
        args.add(Pointer.to(v.clone()));
        return this;
    }

    Pointer pointer() {
        return Pointer.to(args.toArray(new Pointer[0]));
    }
}
