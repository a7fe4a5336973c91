package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Tiled attention against the textbook formula in double precision: the full score matrix,
 * softmax per row, then the weighted sum of values.
 */
class FlashAttentionTest {
    private static final VectorBackend BE = new VectorBackend();

    private static float[] random(Random rnd, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (std * rnd.nextGaussian());
        }
        return a;
    }

    /**
     * softmax(scale q k^T + mask) v per (batch, head), in double. {@code maskDims} is the mask's
     * shape (each dim 1 or full), or null for no mask.
     */
    private static double[] reference(float[] q, float[] k, float[] v, float[] mask, int[] maskDims, int b, int h,
            int lq, int lk, int d, int dv, float scale) {
        double[] out = new double[b * h * lq * dv];
        double[] s = new double[lk];
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                int head = bi * h + hi;
                for (int i = 0; i < lq; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < lk; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) {
                            dot += (double) q[(head * lq + i) * d + c] * k[(head * lk + j) * d + c];
                        }
                        s[j] = scale * dot;
                        if (mask != null) {
                            int[] idx = {bi, hi, i, j};
                            int f = 0;
                            for (int a = 0; a < 4; a++) {
                                f = f * maskDims[a] + (maskDims[a] == 1 ? 0 : idx[a]);
                            }
                            s[j] += mask[f];
                        }
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < lk; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j < lk; j++) {
                        for (int c = 0; c < dv; c++) {
                            out[(head * lq + i) * dv + c] += s[j] / sum * v[(head * lk + j) * dv + c];
                        }
                    }
                }
            }
        }
        return out;
    }

    private static double relErr(float[] actual, double[] ref) {
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Float.isFinite(actual[i]), "non-finite output at " + i);
            maxErr = Math.max(maxErr, Math.abs(actual[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxErr / maxRef;
    }

    private static void check(int b, int h, int lq, int lk, int d, int dv, int[] maskDims, double scoreStd, long seed) {
        Random rnd = new Random(seed);
        float[] q = random(rnd, b * h * lq * d, scoreStd);
        float[] k = random(rnd, b * h * lk * d, 1);
        float[] v = random(rnd, b * h * lk * dv, 1);
        float[] mask = null;
        Tensor maskT = null;
        if (maskDims != null) {
            mask = random(rnd, (int) Shape.of(maskDims).numel(), 1);
            // Mask out some keys, with -inf and with a large finite negative, as padding masks do
            // (not when the mask is constant along keys: that would mask whole rows).
            for (int i = 0; i < mask.length && maskDims[3] > 1; i++) {
                if (i % 5 == 3) {
                    mask[i] = Float.NEGATIVE_INFINITY;
                } else if (i % 7 == 4) {
                    mask[i] = -1e9f;
                }
            }
            maskT = BE.fromArray(mask, Shape.of(maskDims));
        }
        float scale = (float) (1 / Math.sqrt(d));
        Tensor out = BE.attention(BE.fromArray(q, Shape.of(b, h, lq, d)), BE.fromArray(k, Shape.of(b, h, lk, d)),
                BE.fromArray(v, Shape.of(b, h, lk, dv)), maskT, scale);
        assertEquals(Shape.of(b, h, lq, dv), out.shape());
        double e = relErr(out.toFloatArray(), reference(q, k, v, mask, maskDims, b, h, lq, lk, d, dv, scale));
        String what = "attention b" + b + " h" + h + " lq" + lq + " lk" + lk + " d" + d + " dv" + dv + " mask "
                + (maskDims == null ? "none" : Shape.of(maskDims).toString());
        // Scores carry float rounding of ~1 ulp of the dot product, which softmax turns into
        // relative error of the probabilities: a few 1e-7 at unit scores, ~1e-6 at sharp ones.
        assertTrue(e < 5e-6, what + ": relative error " + e);
    }

    @Test
    void smallAndAwkwardShapes() {
        check(1, 1, 1, 1, 1, 1, null, 1, 1);
        check(2, 3, 17, 63, 40, 40, null, 1, 2);
        check(1, 2, 3, 257, 17, 32, null, 1, 3);
        check(1, 1, 65, 65, 64, 48, null, 1, 4);
    }

    @Test
    void manyQueryAndKeyBlocksWithSharpScores() {
        // Several key blocks with large scores exercise the running-max rescaling.
        check(1, 2, 2 * FlashAttention.QUERY_BLOCK + 3, 3 * FlashAttention.KEY_BLOCK + 5, 40, 40, null, 4, 5);
        check(1, 1, 70, 300, 160, 160, null, 1, 6);
    }

    @Test
    void masksBroadcastAlongEachDim() {
        check(2, 3, 19, 150, 24, 24, new int[] {2, 1, 1, 150}, 1, 7); // padding mask [B,1,1,L]
        check(2, 3, 19, 150, 24, 24, new int[] {2, 3, 19, 150}, 1, 8); // full
        check(1, 2, 33, 40, 8, 16, new int[] {1, 1, 33, 40}, 1, 9); // per query, shared by heads
        check(2, 2, 5, 9, 8, 8, new int[] {1, 2, 5, 1}, 1, 10); // constant along keys: no effect
    }

    @Test
    void fullyMaskedRowIsNaNLikeTorchSoftmax() {
        int lk = 200;
        float[] q = random(new Random(11), 3 * 16, 1);
        float[] k = random(new Random(12), lk * 16, 1);
        float[] v = random(new Random(13), lk * 16, 1);
        float[] mask = new float[3 * lk];
        for (int j = 0; j < lk; j++) {
            mask[lk + j] = Float.NEGATIVE_INFINITY; // query 1 sees no key
            mask[2 * lk + j] = j < 150 ? Float.NEGATIVE_INFINITY : 0f; // query 2: only keys of the second block
        }
        float[] out = BE.attention(BE.fromArray(q, Shape.of(1, 1, 3, 16)), BE.fromArray(k, Shape.of(1, 1, lk, 16)),
                BE.fromArray(v, Shape.of(1, 1, lk, 16)), BE.fromArray(mask, Shape.of(1, 1, 3, lk)), 0.25f)
                .toFloatArray();
        double[] ref = reference(q, k, v, mask, new int[] {1, 1, 3, lk}, 1, 1, 3, lk, 16, 16, 0.25f);
        for (int c = 0; c < 16; c++) {
            assertTrue(Float.isNaN(out[16 + c]), "fully masked query gives NaN");
            assertEquals(ref[c], out[c], 1e-5);
            assertEquals(ref[32 + c], out[32 + c], 1e-5);
        }
    }

    @Test
    void rejectsMismatchedShapes() {
        Tensor q = BE.zeros(org.euterpe.tensor.DType.F32, Shape.of(1, 2, 3, 8));
        Tensor k = BE.zeros(org.euterpe.tensor.DType.F32, Shape.of(1, 2, 5, 8));
        Tensor v = BE.zeros(org.euterpe.tensor.DType.F32, Shape.of(1, 2, 5, 4));
        Tensor badK = BE.zeros(org.euterpe.tensor.DType.F32, Shape.of(1, 2, 5, 7));
        Tensor badMask = BE.zeros(org.euterpe.tensor.DType.F32, Shape.of(1, 1, 2, 5));
        assertThrows(IllegalArgumentException.class, () -> BE.attention(q, badK, v, null, 1f));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BE.attention(q, k, v, badMask, 1f));
        assertTrue(e.getMessage().contains("mask"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BE.attention(q.reshape(2, 3, 8), k, v, null, 1f));
    }
}
