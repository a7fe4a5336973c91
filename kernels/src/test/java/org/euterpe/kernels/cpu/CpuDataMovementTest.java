package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The shared CPU data-movement ops against index patterns worked out by hand. */
class CpuDataMovementTest {
    private final ScalarBackend be = new ScalarBackend();

    private Tensor iota(int... dims) {
        float[] v = new float[Math.toIntExact(Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return be.fromArray(v, Shape.of(dims));
    }

    @Test
    void concatAlongMiddleDim() {
        Tensor a = iota(2, 1, 2); // [[0,1]], [[2,3]]
        Tensor b = be.fromArray(new float[] {10, 11, 12, 13, 14, 15, 16, 17}, Shape.of(2, 2, 2));
        Tensor c = be.concat(List.of(a, b), 1);
        assertEquals(Shape.of(2, 3, 2), c.shape());
        assertArrayEquals(new float[] {0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17}, c.toFloatArray());
    }

    @Test
    void concatIntegers() {
        Tensor a = be.fromArray(new long[] {1, 2}, Shape.of(2));
        Tensor b = be.fromArray(new long[] {Long.MAX_VALUE}, Shape.of(1));
        Tensor c = be.concat(List.of(a, b, a), 0);
        assertEquals(DType.I64, c.dtype());
        assertArrayEquals(new long[] {1, 2, Long.MAX_VALUE, 1, 2}, c.toLongArray());
    }

    @Test
    void sliceAlongLastDim() {
        Tensor s = be.slice(iota(2, 5), 1, 1, 3);
        assertEquals(Shape.of(2, 2), s.shape());
        assertArrayEquals(new float[] {1, 2, 6, 7}, s.toFloatArray());
    }

    @Test
    void permuteRank3() {
        // x[i][j][k] = 6i + 3j + k over [2,2,3]; out = x.permute(2,0,1): out[k][i][j] = x[i][j][k]
        Tensor p = be.permute(iota(2, 2, 3), 2, 0, 1);
        assertEquals(Shape.of(3, 2, 2), p.shape());
        assertArrayEquals(new float[] {0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}, p.toFloatArray());
    }

    @Test
    void permuteIntegersKeepsInnerRuns() {
        Tensor x = be.fromArray(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, Shape.of(2, 2, 2));
        // swap the first two dims; the last stays contiguous
        assertArrayEquals(new long[] {0, 1, 4, 5, 2, 3, 6, 7}, be.permute(x, 1, 0, 2).toLongArray());
    }

    /**
     * Every permutation of shapes whose dims are not multiples of the transpose tile, against the
     * index formula: covers merged dims, swapped matrices (the tiled path), strided rows and
     * contiguous runs, in F32 and in a non-F32 dtype (element path); the last shape is large
     * enough to be split across workers.
     */
    @Test
    void permuteMatchesIndexFormula() {
        for (int[] dims : new int[][] {{37, 45}, {2, 37, 45}, {2, 1, 17, 33}, {3, 5, 17, 19}, {4, 33, 40, 50}}) {
            for (int[] perm : permutations(dims.length)) {
                Tensor x = iota(dims);
                float[] expected = permutedIota(dims, perm);
                String what = java.util.Arrays.toString(dims) + " perm " + java.util.Arrays.toString(perm);
                assertArrayEquals(expected, be.permute(x, perm).toFloatArray(), what);
                float[] expectedF16 = expected.clone(); // iota rounded to F16 (exact up to 2048)
                for (int i = 0; i < expectedF16.length; i++) {
                    expectedF16[i] = Float.float16ToFloat(Float.floatToFloat16(expected[i]));
                }
                assertArrayEquals(expectedF16, be.permute(x.cast(DType.F16), perm).toFloatArray(), "F16 " + what);
            }
        }
    }

    /** {@code iota(dims).permute(perm)} by its definition: out[i] = x[sum_k i_k * stride(perm[k])]. */
    private static float[] permutedIota(int[] dims, int[] perm) {
        long[] inStrides = Shape.of(dims).strides();
        int[] outDims = new int[dims.length];
        for (int k = 0; k < dims.length; k++) {
            outDims[k] = dims[perm[k]];
        }
        float[] out = new float[Math.toIntExact(Shape.of(dims).numel())];
        for (int i = 0; i < out.length; i++) {
            long src = 0;
            for (int k = dims.length - 1, rest = i; k >= 0; k--) {
                src += (rest % outDims[k]) * inStrides[perm[k]];
                rest /= outDims[k];
            }
            out[i] = src;
        }
        return out;
    }

    private static List<int[]> permutations(int n) {
        if (n == 1) {
            return List.of(new int[] {0});
        }
        List<int[]> out = new java.util.ArrayList<>();
        for (int[] p : permutations(n - 1)) {
            for (int at = 0; at < n; at++) {
                int[] q = new int[n];
                for (int i = 0, j = 0; i < n; i++) {
                    q[i] = i == at ? n - 1 : p[j++];
                }
                out.add(q);
            }
        }
        return out;
    }

    @Test
    void upsampleSevenToThirteenUsesTorchIndices() {
        // floor(dst * 7/13) for dst = 0..12
        int[] expected = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6};
        Tensor y = be.upsampleNearest(iota(1, 1, 1, 7), 1, 13);
        float[] v = y.toFloatArray();
        for (int i = 0; i < 13; i++) {
            assertEquals(expected[i], v[i], "column " + i);
        }
        Tensor rows = be.upsampleNearest(iota(1, 1, 7, 1), 13, 1);
        assertEquals(Shape.of(1, 1, 13, 1), rows.shape());
        for (int i = 0; i < 13; i++) {
            assertEquals(expected[i], rows.toFloatArray()[i], "row " + i);
        }
    }

    @Test
    void upsampleDoublesAndShrinks() {
        Tensor y = be.upsampleNearest(iota(1, 1, 2, 2), 4, 4);
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}, y.toFloatArray());
        // 5 -> 2: scale 2.5, sources floor(0) = 0 and floor(2.5) = 2
        assertArrayEquals(new float[] {0, 2}, be.upsampleNearest(iota(1, 1, 1, 5), 1, 2).toFloatArray());
    }

    @Test
    void padInTorchOrder() {
        // [2,2] padded last dim (1, 0) and first dim (0, 1) with 9
        Tensor p = be.pad(iota(2, 2), new int[] {1, 0, 0, 1}, 9f);
        assertEquals(Shape.of(3, 3), p.shape());
        assertArrayEquals(new float[] {9, 0, 1, 9, 2, 3, 9, 9, 9}, p.toFloatArray());
    }

    @Test
    void negativePadsCrop() {
        // [2,4] rows 0..3, 4..7: crop one on the left, pad two on the right
        Tensor p = be.pad(iota(2, 4), new int[] {-1, 2}, 0f);
        assertEquals(Shape.of(2, 5), p.shape());
        assertArrayEquals(new float[] {1, 2, 3, 0, 0, 5, 6, 7, 0, 0}, p.toFloatArray());
        Tensor gone = be.pad(iota(2, 4), new int[] {-4, 1}, 7f);
        assertArrayEquals(new float[] {7, 7}, gone.toFloatArray());
    }

    @Test
    void embeddingGathersRows() {
        Tensor table = iota(4, 3);
        Tensor ids = be.fromArray(new long[] {3, 0, 3}, Shape.of(1, 3));
        Tensor e = be.embedding(ids, table);
        assertEquals(Shape.of(1, 3, 3), e.shape());
        assertArrayEquals(new float[] {9, 10, 11, 0, 1, 2, 9, 10, 11}, e.toFloatArray());
        Tensor half = be.cast(table, DType.BF16);
        assertArrayEquals(new float[] {9, 10, 11, 0, 1, 2, 9, 10, 11}, be.embedding(ids, half).toFloatArray());
    }

    @Test
    void embeddingOutOfRangeNamesTheId() {
        Tensor ids = be.fromArray(new long[] {1, 4}, Shape.of(2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.embedding(ids, iota(4, 3)));
        assertTrue(e.getMessage().contains("id 4"), e.getMessage());
    }
}
