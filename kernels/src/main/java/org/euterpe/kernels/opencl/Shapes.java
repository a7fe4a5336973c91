package org.euterpe.kernels.opencl;

import java.util.Arrays;

/**
 * The OpenCL kernels' own limit on shapes, on top of the op set's contract in
 * {@link org.euterpe.tensor.OpShapes}: dims and strides travel as int8 vectors.
 */
final class Shapes {
    /** The kernels take dims and strides as int8 vectors. */
    static final int MAX_RANK = 8;

    private Shapes() {
    }

    /** Refuses a rank the int8 kernel arguments cannot carry. */
    static void checkRank(String op, int rank) {
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException(op + ": rank " + rank + " exceeds " + MAX_RANK);
        }
    }

    /** {@code v} padded with 1s to the 8 lanes of an int8 kernel argument. */
    static int[] pad8(int[] v) {
        int[] out = new int[MAX_RANK];
        Arrays.fill(out, 1);
        System.arraycopy(v, 0, out, 0, v.length);
        return out;
    }

    /** Element strides, which fit an int since OpenCL tensors have at most 2^31 elements, as {@link #pad8(int[])}. */
    static int[] pad8(long[] v) {
        return pad8(Arrays.stream(v).mapToInt(Math::toIntExact).toArray());
    }
}
