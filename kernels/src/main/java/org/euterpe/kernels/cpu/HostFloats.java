package org.euterpe.kernels.cpu;

import org.euterpe.tensor.Tensor;

/**
 * A tensor's elements as F32 for a kernel to read: the heap array itself (no copy) when the
 * tensor is heap F32, else a widened copy (mapped or F16/BF16 storage).
 *
 * @param a   the array
 * @param off index of element 0 in {@code a}
 */
record HostFloats(float[] a, int off) {

    static HostFloats of(Tensor t) {
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException("expected a floating-point tensor, got " + t);
        }
        float[] heap = CpuBackendBase.heapArray(t);
        return heap != null ? new HostFloats(heap, CpuBackendBase.heapOffset(t)) : new HostFloats(t.toFloatArray(), 0);
    }

    /** The elements of an optional tensor (gamma, beta, mask), or null. */
    static HostFloats ofNullable(Tensor t) {
        return t == null ? null : of(t);
    }
}
