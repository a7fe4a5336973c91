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
    private final List<String> types = new ArrayList<>();

    /** The device address of {@code t}'s element 0, or a null pointer for a null tensor. */
    KernelArgs tensor(Tensor t) {
        types.add(".u64");
        args.add(t == null ? Pointer.to(NULL) : Pointer.to(CudaBackend.storage(t).at(t.byteOffset())));
        return this;
    }

    /** A device address, e.g. a tensor's storage at some element offset. */
    KernelArgs address(CUdeviceptr p) {
        types.add(".u64");
        args.add(Pointer.to(p));
        return this;
    }

    KernelArgs i32(int v) {
        types.add(".u32");
        args.add(Pointer.to(new int[] {v}));
        return this;
    }

    KernelArgs i64(long v) {
        types.add(".u64");
        args.add(Pointer.to(new long[] {v}));
        return this;
    }

    KernelArgs f32(float v) {
        types.add(".f32");
        args.add(Pointer.to(new float[] {v}));
        return this;
    }

    KernelArgs f64(double v) {
        types.add(".f64");
        args.add(Pointer.to(new double[] {v}));
        return this;
    }

    /** A struct passed by value, given as its 64-bit words (e.g. {@link StridedIndex}). */
    KernelArgs words(long[] v) {
        types.add(".b8[" + 8 * v.length + "]");
        args.add(Pointer.to(v.clone()));
        return this;
    }

    /**
     * The parameter types as PTX declares them ({@code .u64} for pointers and 64-bit integers,
     * {@code .u32}, {@code .f32}, {@code .f64}, {@code .b8[n]} for a struct), for checking a
     * launch against the kernel's signature.
     */
    List<String> ptxTypes() {
        return List.copyOf(types);
    }

    Pointer pointer() {
        return Pointer.to(args.toArray(new Pointer[0]));
    }
}
