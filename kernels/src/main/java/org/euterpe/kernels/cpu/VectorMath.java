package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float transcendental functions on whole vectors, accurate to a few ulp (relative error below
 * about 3e-7 over the whole float range), built from FMA and bit arithmetic only.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: those call out to a vector math library
 * stub per vector and are several times slower than these inlined polynomials in the hot loops
 * (softmax, attention, SiLU, GELU).
 *
 * <p>The polynomial coefficients are our own fits (weighted least squares iterated towards
 * minimax, Lawson's algorithm, against 40-digit reference values), rounded to float.
 */
final class VectorMath {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final float LOG2E = 1.44269504f;
    // ln 2 split so that n * LN2_HI is exact for |n| < 2^15 (Cody-Waite reduction).
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    // Adding 1.5 * 2^23 rounds a float of magnitude below 2^22 to the nearest integer.
    private static final float ROUND_MAGIC = 12582912f;
    // exp(-104) and exp(89) are already 0 and +inf in float; clamping keeps 2^n representable.
    private static final float EXP_MIN = -104f;
    private static final float EXP_MAX = 89f;

    private static final float SQRT1_2 = 0.70710678f;

    /** Below this |x|, tanh uses its odd polynomial; above, the exp form has no cancellation. */
    private static final float TANH_POLY_LIMIT = 0.625f;
    /** Below this |x|, erf uses its odd polynomial; above, 1 - exp(poly). */
    private static final float ERF_POLY_LIMIT = 1f;
    /** erf(x) rounds to 1 in float from here on; the tail fit covers [1, ERF_ONE]. */
    private static final float ERF_ONE = 3.92f;
    /** Centre of the tail fit's variable, {@code |x| - ERF_TAIL_CENTRE}. */
    private static final float ERF_TAIL_CENTRE = 2.5f;

    private VectorMath() {
    }

    /** e^x; exact 0 below -104, +inf above 89, NaN for NaN, subnormal results where due. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector fn = xc.fma(LOG2E, ROUND_MAGIC).sub(ROUND_MAGIC); // round(x / ln 2)
        FloatVector r = fn.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = fn.fma(FloatVector.broadcast(S, -LN2_LO), r); // r = x - n ln 2, |r| <= ln2 / 2
        // e^r by its Taylor series to degree 7: truncation error below 6e-9 on |r| <= ln2 / 2.
        FloatVector p = r.fma(1f / 5040, 1f / 720);
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        // 2^n as two factors so that both stay normal floats for n in [-150, 129]; the product
        // then over- or underflows (to inf or subnormals) exactly as e^x does.
        IntVector n = (IntVector) fn.convert(VectorOperators.F2I, 0);
        IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = n.sub(n1);
        // 2^n1 and 2^n2 built as float exponent bits. (No helper methods here: C2 stops
        // inlining small non-intrinsic calls once a compilation is large, and then boxes vectors.)
        FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
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
        FloatVector a = x.abs();
        // tanh|x| = 1 - 2 / (e^{2|x|} + 1): no cancellation once |x| >= 0.625.
        FloatVector t = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(a.add(a)).add(1f)));
        FloatVector large = t.blend(t.neg(), x.lt(0f));
        // tanh x = x + x^3 P(x^2), fitted on |x| <= 0.625.
        FloatVector x2 = x.mul(x);
        FloatVector p = x2.fma(-0.006097147f, 0.02099754f);
        p = p.fma(x2, FloatVector.broadcast(S, -0.05385101f));
        p = p.fma(x2, FloatVector.broadcast(S, 0.13332771f));
        p = p.fma(x2, FloatVector.broadcast(S, -0.33333328f));
        return large.blend(p.mul(x2).fma(x, x), a.lt(TANH_POLY_LIMIT));
    }

    /** erf(x). */
    static FloatVector erf(FloatVector x) {
        VectorMask<Float> small = x.abs().lt(ERF_POLY_LIMIT);
        FloatVector result = FloatVector.broadcast(S, 0f);
        if (!small.allTrue()) {
            FloatVector e = erfTail(x.abs());
            result = e.blend(e.neg(), x.lt(0f));
        }
        if (small.anyTrue()) {
            result = result.blend(erfSmall(x), small);
        }
        return result;
    }

    // erf is split in two so that each part stays under C2's size limit for inlining hot methods.

    /**
     * erf(a) for a >= 1: 1 - exp(Q(a - 2.5)), Q fitted to log(erfc) on [1, 3.92]; clamping at
     * 3.92 gives exactly 1 beyond, where erf is 1 in float.
     */
    private static FloatVector erfTail(FloatVector a) {
        FloatVector t = a.min(ERF_ONE).sub(ERF_TAIL_CENTRE);
        FloatVector q = t.fma(1.6319661e-06f, -1.3278305e-05f);
        q = q.fma(t, FloatVector.broadcast(S, 7.733255e-05f));
        q = q.fma(t, FloatVector.broadcast(S, -0.00042024677f));
        q = q.fma(t, FloatVector.broadcast(S, 0.0021652249f));
        q = q.fma(t, FloatVector.broadcast(S, -0.010858423f));
        q = q.fma(t, FloatVector.broadcast(S, -0.9438937f));
        q = q.fma(t, FloatVector.broadcast(S, -5.3526807f));
        q = q.fma(t, FloatVector.broadcast(S, -7.806815f));
        return FloatVector.broadcast(S, 1f).sub(exp(q));
    }

    /** erf(x) for |x| < 1: x P(x^2), fitted on |x| <= 1. */
    private static FloatVector erfSmall(FloatVector x) {
        FloatVector x2 = x.mul(x);
        FloatVector p = x2.fma(7.8540244e-05f, -0.0008010247f);
        p = p.fma(x2, FloatVector.broadcast(S, 0.0051883343f));
        p = p.fma(x2, FloatVector.broadcast(S, -0.026853817f));
        p = p.fma(x2, FloatVector.broadcast(S, 0.112835854f));
        p = p.fma(x2, FloatVector.broadcast(S, -0.37612626f));
        p = p.fma(x2, FloatVector.broadcast(S, 1.1283791f));
        return p.mul(x);
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
