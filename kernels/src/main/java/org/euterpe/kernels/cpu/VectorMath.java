package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float transcendental functions on whole vectors, and loops applying them to arrays.
 *
 * <p>exp and tanh are the Vector API's own lanewise operators: on x86-64 the JDK backs them
 * with its SVML stubs, which measured within 0.5 ulp of the exact values and about twice as
 * fast as an inlined FMA polynomial (1.6 vs 0.8 ms for 2.56M exps on one AVX-512 core). The
 * API has no erf, so erf (for exact GELU) is our own: two polynomials fitted here (weighted
 * least squares iterated towards minimax, Lawson's algorithm, against 40-digit reference
 * values, rounded to float), below 2e-7 relative error.
 */
final class VectorMath {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final float SQRT1_2 = 0.70710678f;

    /** Below this |x|, erf uses its odd polynomial; above, 1 - exp(poly). */
    private static final float ERF_POLY_LIMIT = 1f;
    /** erf(x) rounds to 1 in float from here on; the tail fit covers [1, ERF_ONE]. */
    private static final float ERF_ONE = 3.92f;
    /** Centre of the tail fit's variable, {@code |x| - ERF_TAIL_CENTRE}. */
    private static final float ERF_TAIL_CENTRE = 2.5f;

    private VectorMath() {
    }

    /** log(erfc(a)) as a polynomial in a - 2.5 on [1, 3.92]. */
    private static final float[] ERF_TAIL_POLY = {1.6319661e-06f, -1.3278305e-05f, 7.733255e-05f, -0.00042024677f,
        0.0021652249f, -0.010858423f, -0.9438937f, -5.3526807f, -7.806815f};
    /** erf(x) / x as a polynomial in x^2 on |x| <= 1. */
    private static final float[] ERF_SMALL_POLY = {7.8540244e-05f, -0.0008010247f, 0.0051883343f, -0.026853817f,
        0.112835854f, -0.37612626f, 1.1283791f};

    /**
     * Horner's rule, highest coefficient first. A loop over the coefficients rather than an
     * unrolled chain: C2 parses the loop body once, which keeps the compile under its inlining
     * node budget (an unrolled chain of Vector-API calls per polynomial exhausts it, and then
     * vectors are boxed); the loop is unrolled later, after inlining.
     */
    private static FloatVector poly(FloatVector t, float[] c) {
        FloatVector p = FloatVector.broadcast(S, c[0]);
        for (int k = 1; k < c.length; k++) {
            p = p.fma(t, FloatVector.broadcast(S, c[k]));
        }
        return p;
    }

    /** e^x. */
    static FloatVector exp(FloatVector x) {
        return x.lanewise(VectorOperators.EXP);
    }

    /** 1 / (1 + e^-x). */
    static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(exp(x.neg()).add(1f));
    }

    /** x / (1 + e^-x), as torch's SiLU. */
    static FloatVector silu(FloatVector x) {
        return x.div(exp(x.neg()).add(1f));
    }

    /** tanh(x). */
    static FloatVector tanh(FloatVector x) {
        return x.lanewise(VectorOperators.TANH);
    }

    /** erf(x). Both pieces are computed for every vector: cheaper than branching on mixed vectors. */
    static FloatVector erf(FloatVector x) {
        FloatVector a = x.abs();
        // |x| >= 1: 1 - exp(Q(|x| - 2.5)), Q fitted to log(erfc); clamping |x| at 3.92 gives
        // exactly 1 beyond, where erf is 1 in float.
        FloatVector q = poly(a.min(ERF_ONE).sub(ERF_TAIL_CENTRE), ERF_TAIL_POLY);
        FloatVector tail = FloatVector.broadcast(S, 1f).sub(exp(q));
        tail = tail.blend(tail.neg(), x.lt(0f));
        // |x| < 1: x P(x^2).
        return tail.blend(poly(x.mul(x), ERF_SMALL_POLY).mul(x), a.lt(ERF_POLY_LIMIT));
    }

    /** Exact GELU, {@code x/2 (1 + erf(x / sqrt 2))}, in torch's order of operations. */
    static FloatVector gelu(FloatVector x) {
        return x.mul(0.5f).mul(erf(x.mul(SQRT1_2)).add(1f));
    }

    // ------------------------------------------------ array loops
    //
    // One loop per function, by design: C2 inlines a large callee (these functions expand to
    // hundreds of IR nodes) only at a hot call site of a small enough caller. A loop shared by
    // several functions through a switch gets a diluted profile and a node budget spent on the
    // other cases; the callee is then called out of line and every vector is boxed, which is
    // 10-50x slower. Callers run these loops over cache-resident runs instead of fusing.

    /** {@code y[yo + i] = exp(x[xo + i])} for {@code i < n}; x and y may be the same array. */
    static void exp(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, n);
            exp(FloatVector.fromArray(S, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    /**
     * {@code a[off + i] = exp(a[off + i] - shift)} in place for {@code i < n}, returning the sum
     * of the results (float partial sums of one run, added in double): softmax's numerator and
     * denominator in one pass.
     */
    static double expShiftedSum(float[] a, int off, int n, float shift) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < n; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector e = exp(FloatVector.fromArray(S, a, off + i, m).sub(shift));
            e.intoArray(a, off + i, m);
            acc = acc.add(e, m);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@code y = sigmoid(x)} over a run, as {@link #exp(float[], int, float[], int, int)}. */
    static void sigmoid(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, n);
            sigmoid(FloatVector.fromArray(S, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    /** {@code y = silu(x)} over a run. */
    static void silu(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, n);
            silu(FloatVector.fromArray(S, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    /** {@code y = tanh(x)} over a run. */
    static void tanh(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, n);
            tanh(FloatVector.fromArray(S, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    /** {@code y = gelu(x)} over a run. */
    static void gelu(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, n);
            gelu(FloatVector.fromArray(S, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

}
