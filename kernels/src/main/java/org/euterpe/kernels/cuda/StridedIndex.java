package org.euterpe.kernels.cuda;

/**
 * The host side of the kernels' {@code euterpe::Strides} struct: an index space (up to 8 dims)
 * with two sets of element strides, passed to a kernel by value as 25 64-bit words
 * {@code [rank, dims[8], a[8], b[8]]}.
 */
final class StridedIndex {
    static final int MAX_RANK = 8;

    private StridedIndex() {
    }

    static long[] of(int[] dims, long[] a, long[] b) {
        int rank = dims.length;
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("the CUDA kernels handle at most " + MAX_RANK + " dims, got " + rank);
        }
        long[] words = new long[1 + 3 * MAX_RANK];
        words[0] = rank;
        for (int i = 0; i < rank; i++) {
            words[1 + i] = dims[i];
            words[1 + MAX_RANK + i] = a[i];
            words[1 + 2 * MAX_RANK + i] = b[i];
        }
        return words;
    }
}
