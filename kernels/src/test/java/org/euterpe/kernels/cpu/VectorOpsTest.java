package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.DoubleUnaryOperator;

import jdk.incubator.vector.FloatVector;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

/**
 * VectorOps and VectorMath against plain double-precision loops written here (the definitions,
 * as torch documents them), on awkward sizes that leave vector tails.
 */
class VectorOpsTest {
    private static final VectorBackend BE = new VectorBackend();
    private static final double TOL = 1e-6;

    // ---------------------------------------------------------------- references and helpers

    private static float[] random(Random rnd, int n, double mean, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (mean + std * rnd.nextGaussian());
        }
        return a;
    }

    private static Tensor tensor(float[] data, int... dims) {
        return BE.fromArray(data, Shape.of(dims));
    }

    /** max |actual - ref| / max |ref|, the conformance measure. */
    private static double relErr(float[] actual, double[] ref) {
        assertEquals(ref.length, actual.length, "element count");
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            if (!Double.isFinite(ref[i]) || !Double.isFinite(actual[i])) {
                // NaN and infinities must match exactly and are left out of the error.
                assertEquals(ref[i], actual[i], 0, "non-finite value at " + i);
                continue;
            }
            maxErr = Math.max(maxErr, Math.abs(actual[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxRef == 0 ? maxErr : maxErr / maxRef;
    }

    private static void assertClose(double[] ref, Tensor actual, double tol, String what) {
        double e = relErr(actual.toFloatArray(), ref);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }

    /** erf by its everywhere-convergent series of positive terms (no cancellation), in double. */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax > 6) {
            return Math.signum(x);
        }
        double term = ax;
        double sum = ax;
        for (int n = 1; term > 1e-17 * sum; n++) {
            term *= 2 * ax * ax / (2 * n + 1);
            sum += term;
        }
        return Math.signum(x) * 2 / Math.sqrt(Math.PI) * Math.exp(-ax * ax) * sum;
    }

    /** Dense sweep plus tiny magnitudes, for the transcendental functions. */
    private static float[] sweep(float lo, float hi, int n) {
        float[] a = new float[n + 40];
        for (int i = 0; i < n; i++) {
            a[i] = lo + (hi - lo) * i / (n - 1);
        }
        for (int i = 0; i < 20; i++) {
            float t = (float) Math.pow(10, -i * 0.4);
            a[n + 2 * i] = t;
            a[n + 2 * i + 1] = -t;
        }
        return a;
    }

    /** Largest element-wise relative error of {@code op} against {@code ref} over the inputs. */
    private static double maxPointwiseRelErr(UnaryOp op, float[] x, DoubleUnaryOperator ref) {
        float[] y = BE.unary(op, tensor(x, x.length), 0f).toFloatArray();
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double r = ref.applyAsDouble(x[i]);
            worst = Math.max(worst, r == 0 ? Math.abs(y[i]) : Math.abs(y[i] - r) / Math.abs(r));
        }
        return worst;
    }

    // ---------------------------------------------------------------- transcendental accuracy

    @Test
    void expIsAccurateAcrossTheFloatRange() {
        float[] x = sweep(-87f, 88.5f, 200_001);
        double e = maxPointwiseRelErr(UnaryOp.EXP, x, Math::exp);
        assertTrue(e < 4e-7, "exp relative error " + e);
        float[] special = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, -1000f, 1000f, 89f, 0f,
            -100f};
        float[] y = BE.unary(UnaryOp.EXP, tensor(special, special.length), 0f).toFloatArray();
        assertEquals(0f, y[0]);
        assertEquals(Float.POSITIVE_INFINITY, y[1]);
        assertTrue(Float.isNaN(y[2]));
        assertEquals(0f, y[3]);
        assertEquals(Float.POSITIVE_INFINITY, y[4]);
        assertEquals(Float.POSITIVE_INFINITY, y[5]);
        assertEquals(1f, y[6]);
        assertEquals(Math.exp(-100), y[7], 1e-45, "subnormal result");
    }

    @Test
    void tanhSigmoidSiluAreAccurate() {
        float[] x = sweep(-20f, 20f, 100_003);
        double et = maxPointwiseRelErr(UnaryOp.TANH, x, Math::tanh);
        assertTrue(et < 4e-7, "tanh relative error " + et);
        double es = maxPointwiseRelErr(UnaryOp.SIGMOID, x, v -> 1 / (1 + Math.exp(-v)));
        assertTrue(es < 4e-7, "sigmoid relative error " + es);
        double eu = maxPointwiseRelErr(UnaryOp.SILU, x, v -> v / (1 + Math.exp(-v)));
        assertTrue(eu < 4e-7, "silu relative error " + eu);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        float[] t = BE.unary(UnaryOp.TANH, tensor(special, 3), 0f).toFloatArray();
        assertTrue(Float.isNaN(t[0]));
        assertEquals(1f, t[1]);
        assertEquals(-1f, t[2]);
    }

    @Test
    void erfIsAccurate() {
        float[] x = sweep(-5f, 5f, 100_001);
        double worst = 0;
        int l = VectorMath.S.length();
        float[] y = new float[l];
        for (int i = 0; i + l <= x.length; i += l) {
            VectorMath.erf(FloatVector.fromArray(VectorMath.S, x, i)).intoArray(y, 0);
            for (int k = 0; k < l; k++) {
                double r = erf(x[i + k]);
                worst = Math.max(worst, r == 0 ? Math.abs(y[k]) : Math.abs(y[k] - r) / Math.abs(r));
            }
        }
        assertTrue(worst < 4e-7, "erf relative error " + worst);
    }

    @Test
    void geluIsTheExactErfForm() {
        float[] x = sweep(-12f, 12f, 50_001);
        float[] y = BE.unary(UnaryOp.GELU, tensor(x, x.length), 0f).toFloatArray();
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double r = 0.5 * x[i] * (1 + erf(x[i] / Math.sqrt(2)));
            // Absolute error against max(|x|, ...) (the erf form cancels for negative x, as in torch).
            worst = Math.max(worst, Math.abs(y[i] - r) / Math.max(Math.abs(x[i]), 1e-3));
        }
        assertTrue(worst < 3e-7, "gelu error " + worst);
        // The tanh approximation differs from exact GELU by ~1e-4 around |x| = 2: make sure we are not it.
        float g = BE.unary(UnaryOp.GELU, tensor(new float[] {-2f}, 1), 0f).item();
        assertEquals(-2 * 0.5 * (1 + erf(-Math.sqrt(2))), g, 1e-7);
    }

    @Test
    void piecewiseUnaryOpsMatchFloatArithmeticExactly() {
        float[] x = random(new Random(1), 67, 0, 3);
        x[5] = 0f;
        float[] ax = x.clone();
        for (int i = 0; i < ax.length; i++) {
            ax[i] = Math.abs(ax[i]);
        }
        Tensor t = tensor(x, x.length);
        float[] relu = BE.unary(UnaryOp.RELU, t, 0f).toFloatArray();
        float[] leaky = BE.unary(UnaryOp.LEAKY_RELU, t, 0.1f).toFloatArray();
        float[] neg = BE.unary(UnaryOp.NEG, t, 0f).toFloatArray();
        float[] sqrt = BE.unary(UnaryOp.SQRT, tensor(ax, ax.length), 0f).toFloatArray();
        for (int i = 0; i < x.length; i++) {
            assertEquals(Math.max(x[i], 0f), relu[i]);
            assertEquals(x[i] >= 0 ? x[i] : 0.1f * x[i], leaky[i]);
            assertEquals(-x[i], neg[i]);
            assertEquals((float) Math.sqrt(ax[i]), sqrt[i]);
        }
    }

    // ---------------------------------------------------------------- binary with broadcasting

    /** Broadcast reference: every output index mapped back to each operand by hand. */
    private static float[] broadcastRef(BinaryOp op, float[] a, int[] da, float[] b, int[] db, int[] dout) {
        int rank = dout.length;
        int n = (int) Shape.of(dout).numel();
        float[] out = new float[n];
        int[] idx = new int[rank];
        for (int f = 0; f < n; f++) {
            int rem = f;
            for (int i = rank - 1; i >= 0; i--) {
                idx[i] = rem % dout[i];
                rem /= dout[i];
            }
            out[f] = op.apply(a[flat(idx, da)], b[flat(idx, db)]);
        }
        return out;
    }

    /** Row-major index into a right-aligned, possibly broadcast operand. */
    private static int flat(int[] idx, int[] dims) {
        int off = idx.length - dims.length;
        int f = 0;
        for (int i = 0; i < dims.length; i++) {
            f = f * dims[i] + (dims[i] == 1 ? 0 : idx[off + i]);
        }
        return f;
    }

    @Test
    void binaryBroadcastsLikeNumpyAndIsExact() {
        int[][][] cases = {
            {{3, 17, 65}, {3, 17, 65}, {3, 17, 65}}, // same shape
            {{2, 5, 7, 9}, {5, 1, 1}, {2, 5, 7, 9}}, // bias [C,1,1]
            {{4, 63}, {63}, {4, 63}}, // per row
            {{63}, {4, 63}, {4, 63}}, // a broadcast
            {{1, 17}, {13, 1}, {13, 17}}, // outer product
            {{3, 1, 5}, {1, 4, 1}, {3, 4, 5}}, // both sides
            {{4, 63}, {1}, {4, 63}}, // one-element tensor
            {{2, 3, 20000}, {3, 1}, {2, 3, 20000}}, // long rows split across blocks
            {{1}, {1, 1}, {1, 1}}, // all ones
            {{5, 3}, {5, 1}, {5, 3}}, // short rows, repeated b
        };
        Random rnd = new Random(2);
        for (int[][] c : cases) {
            float[] a = random(rnd, (int) Shape.of(c[0]).numel(), 0, 1);
            float[] b = random(rnd, (int) Shape.of(c[1]).numel(), 2, 1);
            for (BinaryOp op : BinaryOp.values()) {
                Tensor out = BE.binary(op, tensor(a, c[0]), tensor(b, c[1]));
                assertEquals(Shape.of(c[2]), out.shape());
                assertArrayEquals(broadcastRef(op, a, c[0], b, c[1], c[2]), out.toFloatArray(),
                        op + " " + Shape.of(c[0]) + " " + Shape.of(c[1]));
            }
        }
    }

    @Test
    void binaryRejectsIncompatibleShapes() {
        Tensor a = BE.zeros(org.euterpe.tensor.DType.F32, Shape.of(3, 4));
        Tensor b = BE.zeros(org.euterpe.tensor.DType.F32, Shape.of(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BE.binary(BinaryOp.ADD, a, b));
        assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains("[3]"), e.getMessage());
    }

    @Test
    void scalarOpsAreExactAndReadViews() {
        float[] x = random(new Random(3), 2 * 65, 0, 1);
        Tensor second = tensor(x, 2, 65).select(1); // a view at a non-zero offset
        for (BinaryOp op : BinaryOp.values()) {
            float[] y = BE.scalar(op, second, 1.7f).toFloatArray();
            for (int i = 0; i < 65; i++) {
                assertEquals(op.apply(x[65 + i], 1.7f), y[i], op.toString());
            }
        }
    }

    // ---------------------------------------------------------------- normalisation

    private static double[] groupNormRef(float[] x, int n, int c, int spatial, int groups, float[] gamma,
            float[] beta, double eps, boolean silu) {
        double[] y = new double[x.length];
        int cpg = c / groups;
        for (int b = 0; b < n; b++) {
            for (int g = 0; g < groups; g++) {
                int base = (b * c + g * cpg) * spatial;
                int cnt = cpg * spatial;
                double mean = 0;
                for (int i = 0; i < cnt; i++) {
                    mean += x[base + i];
                }
                mean /= cnt;
                double var = 0;
                for (int i = 0; i < cnt; i++) {
                    var += (x[base + i] - mean) * (x[base + i] - mean);
                }
                var /= cnt;
                for (int i = 0; i < cnt; i++) {
                    int ch = g * cpg + i / spatial;
                    double v = (x[base + i] - mean) / Math.sqrt(var + eps);
                    v = v * (gamma == null ? 1 : gamma[ch]) + (beta == null ? 0 : beta[ch]);
                    y[base + i] = silu ? v / (1 + Math.exp(-v)) : v;
                }
            }
        }
        return y;
    }

    @Test
    void groupNormMatchesDefinition() {
        Random rnd = new Random(4);
        // {1, 4, 50, 41}: groups of 4100 elements, statistics combined over several chunks.
        int[][] shapes = {{2, 6, 17, 3}, {1, 4, 1}, {2, 32, 63, 5}, {3, 9}, {1, 4, 50, 41}};
        int[] groupCounts = {3, 2, 32, 3, 2};
        for (int s = 0; s < shapes.length; s++) {
            int[] sh = shapes[s];
            int c = sh[1];
            int spatial = (int) (Shape.of(sh).numel() / (sh[0] * c));
            // An offset mean with a small spread: naive one-pass float variance would fail here.
            float[] x = random(rnd, (int) Shape.of(sh).numel(), 30, 0.5);
            float[] gamma = random(rnd, c, 1, 0.3);
            float[] beta = random(rnd, c, 0, 0.3);
            for (boolean silu : new boolean[] {false, true}) {
                assertClose(groupNormRef(x, sh[0], c, spatial, groupCounts[s], gamma, beta, 1e-5, silu),
                        BE.groupNorm(tensor(x, sh), groupCounts[s], tensor(gamma, c), tensor(beta, c), 1e-5f, silu),
                        1e-6, "groupNorm " + Shape.of(sh) + " silu=" + silu);
            }
            assertClose(groupNormRef(x, sh[0], c, spatial, groupCounts[s], null, null, 1e-6, false),
                    BE.groupNorm(tensor(x, sh), groupCounts[s], null, null, 1e-6f, false), 2e-6,
                    "groupNorm without affine " + Shape.of(sh));
        }
        assertThrows(IllegalArgumentException.class,
                () -> BE.groupNorm(tensor(new float[12], 1, 6, 2), 4, null, null, 1e-5f, false));
        assertThrows(IllegalArgumentException.class,
                () -> BE.groupNorm(tensor(new float[12], 1, 6, 2), 3, tensor(new float[5], 5), null, 1e-5f, false));
    }

    @Test
    void groupNormLargeGroupsSplitAcrossWorkers() {
        int[] sh = {2, 64, 40, 33};
        float[] x = random(new Random(5), (int) Shape.of(sh).numel(), -2, 3);
        assertClose(groupNormRef(x, 2, 64, 40 * 33, 32, null, null, 1e-6, true),
                BE.groupNorm(tensor(x, sh), 32, null, null, 1e-6f, true), 1e-6, "groupNorm large");
    }

    @Test
    void layerNormMatchesDefinition() {
        Random rnd = new Random(6);
        int[][] shapes = {{3, 17, 65}, {5, 1}, {2, 768}, {4, 3}};
        for (int[] sh : shapes) {
            int d = sh[sh.length - 1];
            float[] x = random(rnd, (int) Shape.of(sh).numel(), -10, 2);
            float[] gamma = random(rnd, d, 1, 0.5);
            float[] beta = random(rnd, d, 0, 0.5);
            for (boolean affine : new boolean[] {false, true}) {
                double[] ref = new double[x.length];
                for (int r = 0; r < x.length / d; r++) {
                    double mean = 0;
                    double var = 0;
                    for (int i = 0; i < d; i++) {
                        mean += x[r * d + i];
                    }
                    mean /= d;
                    for (int i = 0; i < d; i++) {
                        var += Math.pow(x[r * d + i] - mean, 2);
                    }
                    var /= d;
                    for (int i = 0; i < d; i++) {
                        double v = (x[r * d + i] - mean) / Math.sqrt(var + 1e-5);
                        ref[r * d + i] = affine ? v * gamma[i] + beta[i] : v;
                    }
                }
                Tensor g = affine ? tensor(gamma, d) : null;
                Tensor b = affine ? tensor(beta, d) : null;
                assertClose(ref, BE.layerNorm(tensor(x, sh), g, b, 1e-5f), 1e-6, "layerNorm " + Shape.of(sh));
            }
        }
    }

    // ---------------------------------------------------------------- softmax, reductions, l2

    @Test
    void softmaxMatchesDefinition() {
        Random rnd = new Random(7);
        int[][] shapes = {{7, 1}, {3, 17}, {4, 1025}, {2, 3, 63}};
        for (int[] sh : shapes) {
            int d = sh[sh.length - 1];
            float[] x = random(rnd, (int) Shape.of(sh).numel(), 0, 5);
            x[x.length - 1] = Float.NEGATIVE_INFINITY; // a masked entry
            double[] ref = new double[x.length];
            for (int r = 0; r < x.length / d; r++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < d; i++) {
                    max = Math.max(max, x[r * d + i]);
                }
                double sum = 0;
                for (int i = 0; i < d; i++) {
                    sum += Math.exp(x[r * d + i] - max);
                }
                for (int i = 0; i < d; i++) {
                    ref[r * d + i] = Math.exp(x[r * d + i] - max) / sum;
                }
            }
            if (d == 1) {
                ref[ref.length - 1] = Double.NaN; // its only entry is -inf
            }
            assertClose(ref, BE.softmax(tensor(x, sh)), 1e-6, "softmax " + Shape.of(sh));
        }
        float[] allMasked = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, 2f};
        float[] y = BE.softmax(tensor(allMasked, 2, 2)).toFloatArray();
        assertTrue(Float.isNaN(y[0]) && Float.isNaN(y[1]), "softmax over all -inf is NaN, as torch");
        assertEquals(1 / (1 + Math.E), y[2], 1e-7);
    }

    @Test
    void sumAndMeanOverAnyDim() {
        Random rnd = new Random(8);
        int[] sh = {3, 17, 65};
        float[] x = random(rnd, 3 * 17 * 65, 1, 1);
        for (int dim = -1; dim < 3; dim++) {
            int axis = dim < 0 ? dim + 3 : dim;
            int outer = 1;
            int inner = 1;
            for (int i = 0; i < axis; i++) {
                outer *= sh[i];
            }
            for (int i = axis + 1; i < 3; i++) {
                inner *= sh[i];
            }
            double[] ref = new double[outer * inner];
            for (int o = 0; o < outer; o++) {
                for (int j = 0; j < sh[axis]; j++) {
                    for (int i = 0; i < inner; i++) {
                        ref[o * inner + i] += x[(o * sh[axis] + j) * inner + i];
                    }
                }
            }
            double[] meanRef = ref.clone();
            for (int i = 0; i < meanRef.length; i++) {
                meanRef[i] /= sh[axis];
            }
            Tensor t = tensor(x, sh);
            Tensor s = BE.sum(t, dim, true);
            assertEquals(Shape.of(sh).with(axis, 1), s.shape());
            assertClose(ref, s, 1e-6, "sum dim " + dim);
            Tensor m = BE.mean(t, dim, false);
            assertEquals(2, m.rank());
            assertClose(meanRef, m, 1e-6, "mean dim " + dim);
        }
        // A long sum of values with a large common part stays accurate.
        float[] big = random(rnd, 300_001, 1000, 1);
        double exact = 0;
        for (float v : big) {
            exact += v;
        }
        assertEquals(exact, BE.sum(tensor(big, big.length), 0, false).item(), Math.abs(exact) * 1e-7);
    }

    @Test
    void l2NormalizeMatchesTorchDefinition() {
        Random rnd = new Random(9);
        float[] x = random(rnd, 5 * 63, 0, 2);
        for (int i = 63; i < 126; i++) {
            x[i] = 0f; // a zero row stays zero (the eps floor)
        }
        double[] ref = new double[x.length];
        for (int r = 0; r < 5; r++) {
            double ss = 0;
            for (int i = 0; i < 63; i++) {
                ss += (double) x[r * 63 + i] * x[r * 63 + i];
            }
            double denom = Math.max(Math.sqrt(ss), 1e-12);
            for (int i = 0; i < 63; i++) {
                ref[r * 63 + i] = x[r * 63 + i] / denom;
            }
        }
        assertClose(ref, BE.l2Normalize(tensor(x, 5, 63), 1e-12f), 1e-6, "l2Normalize");
    }
}
