package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float transcendental functions on whole vectors, and loops applying them to arrays.
 *
 * <p>Every function is built from lane operations whose result is fully specified (add, mul,
 * fma, min/max, conversions), never from the API's lanewise EXP/TANH: those are computed one
 * way when interpreted (per lane, through Math) and another once C2 compiles them (native SVML
 * stubs), so the same input gave different bits as the JIT warmed up, and two identical
 * generations differed. exp is Cephes' expf scheme (range reduction by ln 2 in two parts, a
 * degree-6 polynomial, the exponent set by integer arithmetic), about 1 ulp; tanh is Cephes'
 * tanhf (an odd polynomial below 0.625, {@code 1 - 2 / (e^2x + 1)} above). The API has no erf,
 * so erf (for exact GELU) is our own: two polynomials fitted here (weighted least squares
 * iterated towards minimax, Lawson's algorithm, against 40-digit reference values, rounded to
 * float), below 2e-7 relative error.
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
    /**
     * erf(x) / x as a polynomial in x^2 on |x| <= 1; the two leading zeros pad it to the tail's
     * degree for the shared Horner loop (they leave its value and rounding unchanged).
     */
    private static final float[] ERF_SMALL_POLY = {0f, 0f, 7.8540244e-05f, -0.0008010247f, 0.0051883343f, -0.026853817f,
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

    /** {@link #poly(FloatVector, float[])} with coefficients {@code d} instead of {@code c} in the lanes of {@code useD}. */
    private static FloatVector poly(FloatVector t, float[] c, float[] d, VectorMask<Float> useD) {
        FloatVector p = FloatVector.broadcast(S, c[0]).blend(d[0], useD);
        for (int k = 1; k < c.length; k++) {
            p = p.fma(t, FloatVector.broadcast(S, c[k]).blend(d[k], useD));
        }
        return p;
    }

    private static final float EXP_HI = 88.72283f;
    /** ln(2^-150): below this, e^x rounds to 0 even as a subnormal. */
    private static final float EXP_LO = -103.97208f;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that n * EXP_C1 is exact for the n that occur. */
    private static final float EXP_C1 = 0.693359375f;
    private static final float EXP_C2 = -2.12194440e-4f;
    /**
     * P(r) of e^r = r + r^2 P(r) + 1 on [-ln2/2, ln2/2] (Cephes expf), by Horner's rule written
     * out. Not {@link #poly}: its loop carries the vector in a phi, and in some compiles (which
     * ones depends on the profile) C2 boxed that phi on every step; in the U-Net's attention
     * softmax that was ~2 GB/s of garbage and a several-fold slower exp. Six coefficients
     * unrolled stay well inside the inlining budget of every caller.
     */
    private static FloatVector expPoly(FloatVector r) {
        FloatVector p = FloatVector.broadcast(S, EXP_P0);
        p = p.fma(r, FloatVector.broadcast(S, EXP_P1));
        p = p.fma(r, FloatVector.broadcast(S, EXP_P2));
        p = p.fma(r, FloatVector.broadcast(S, EXP_P3));
        p = p.fma(r, FloatVector.broadcast(S, EXP_P4));
        return p.fma(r, FloatVector.broadcast(S, EXP_P5));
    }

    /** {@link #expPoly} of one float, the same fused steps. */
    private static float expPoly(float r) {
        float p = EXP_P0;
        p = Math.fma(p, r, EXP_P1);
        p = Math.fma(p, r, EXP_P2);
        p = Math.fma(p, r, EXP_P3);
        p = Math.fma(p, r, EXP_P4);
        return Math.fma(p, r, EXP_P5);
    }

    /** expPoly's coefficients, highest first. */
    private static final float EXP_P0 = 1.9875691500E-4f;
    private static final float EXP_P1 = 1.3981999507E-3f;
    private static final float EXP_P2 = 8.3334519073E-3f;
    private static final float EXP_P3 = 4.1665795894E-2f;
    private static final float EXP_P4 = 1.6666665459E-1f;
    private static final float EXP_P5 = 5.0000001201E-1f;
    /** tanh(x) = x + x^3 P(x^2) for |x| < 0.625 (Cephes tanhf). */
    private static final float[] TANH_POLY = {-5.70498872745E-3f, 2.06390887954E-2f, -5.37397155531E-2f,
        1.33314422036E-1f, -3.33332819422E-1f};
    private static final float TANH_POLY_LIMIT = 0.625f;

    /** e^x, subnormal results included; 0 below underflow, +inf above overflow, NaN for NaN. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        // n = floor(x log2e + 1/2): truncate, then step down where truncation rounded up (negatives).
        FloatVector v = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, 0.5f));
        FloatVector n = v.convert(VectorOperators.F2I, 0).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
        n = n.sub(1f, n.compare(VectorOperators.GT, v));
        FloatVector r = n.fma(FloatVector.broadcast(S, -EXP_C1), xc).sub(n.mul(EXP_C2));
        FloatVector y = expPoly(r).fma(r.mul(r), r).add(1f);
        // 2^n through the exponent bits, as 2^(n/2) * 2^(n - n/2): n spans [-150, 128] after the
        // clamp, beyond a float's exponent range at both ends; the last product rounds once into
        // the subnormals where the result is that small.
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        y = y.mul(half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        y = y.blend(0f, x.lt(EXP_LO));
        y = y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
        return y.blend(x, x.test(VectorOperators.IS_NAN));
    }

    /** 1.5 * 2^23: adding it to a float of magnitude below 2^22 rounds to an integer, kept in the low mantissa bits. */
    private static final float ROUND_MAGIC = 12582912f;
    /** ln(FLT_MIN): below this, e^x is subnormal, which {@link #expNonPositive} flushes to 0. */
    private static final float EXP_NORMAL_LO = -87.33654f;

    /**
     * e^x for the {@code x <= 0} of a softmax after its max shift (correct up to x = 88): the
     * same reduction and polynomial as {@link #exp(FloatVector)}, about 1 ulp, but cheaper where
     * softmax allows it. n = round(x log2e) comes from adding {@link #ROUND_MAGIC} (no float-int
     * conversions with their saturation fix-ups), whose low bits then hold n for the exponent
     * field; x below ln(FLT_MIN) = -87.34 (-inf included) gives 0, so 2^n is always a normal
     * float and one multiply. Flushing what would be subnormal costs a softmax less than 1.2e-38
     * per key against a row sum of at least 1. NaN gives NaN.
     */
    static FloatVector expNonPositive(FloatVector x) {
        FloatVector t = x.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND_MAGIC));
        FloatVector n = t.sub(ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -EXP_C1), x);
        r = n.fma(FloatVector.broadcast(S, -EXP_C2), r);
        FloatVector y = expPoly(r).fma(r.mul(r), r).add(1f);
        // t's bits are those of ROUND_MAGIC plus n; shifted into the exponent field, ROUND_MAGIC's
        // own bits fall off the top, leaving 2^n once the bias is added.
        IntVector bits = t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).add(127 << 23);
        y = y.mul(bits.reinterpretAsFloats());
        return y.blend(0f, x.lt(EXP_NORMAL_LO));
    }

    /**
     * {@link #expNonPositive(FloatVector)} of one float, with the same operations (fused where
     * the vector form fuses), so it gives the same bits. For a kernel that needs one factor per
     * row, where a second inlined vector exp would push its compile past C2's node budget.
     */
    static float expNonPositive(float x) {
        float t = Math.fma(x, LOG2E, ROUND_MAGIC);
        float n = t - ROUND_MAGIC;
        float r = Math.fma(n, -EXP_C2, Math.fma(n, -EXP_C1, x));
        float y = Math.fma(expPoly(r), r * r, r) + 1f;
        y *= Float.intBitsToFloat((Float.floatToRawIntBits(t) << 23) + (127 << 23));
        return x < EXP_NORMAL_LO ? 0f : y;
    }

    /**
     * 1 / (1 + e^-x), as e^-|x| / (1 + e^-|x|) for negative x: the exponent is then never
     * positive, so the cheaper {@link #expNonPositive} serves every x (below -87.3 the result
     * flushes to 0 where torch's is a subnormal).
     */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = expNonPositive(x.abs().neg());
        return FloatVector.broadcast(S, 1f).blend(e, x.lt(0f)).div(e.add(1f));
    }

    /** x / (1 + e^-x), as torch's SiLU; computed as {@link #sigmoid} is. */
    static FloatVector silu(FloatVector x) {
        FloatVector e = expNonPositive(x.abs().neg());
        return x.blend(x.mul(e), x.lt(0f)).div(e.add(1f));
    }

    /** tanh(x). */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector z = x.mul(x);
        FloatVector small = poly(z, TANH_POLY).mul(z).fma(x, x);
        // 1 - 2 / (e^2|x| + 1) saturates to 1 for large |x| (e^2|x| = inf gives exactly 1).
        FloatVector big = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(a.add(a)).add(1f)));
        big = big.blend(big.neg(), x.lt(0f));
        return big.blend(small, a.lt(TANH_POLY_LIMIT));
    }

    /** erf(x). Both pieces are computed for every vector: cheaper than branching on mixed vectors. */
    static FloatVector erf(FloatVector x) {
        FloatVector a = x.abs();
        VectorMask<Float> small = a.lt(ERF_POLY_LIMIT);
        // |x| >= 1: 1 - exp(Q(|x| - 2.5)), Q fitted to log(erfc); clamping |x| at 3.92 gives
        // exactly 1 beyond, where erf is 1 in float. |x| < 1: x P(x^2). Both polynomials in one
        // Horner loop, each lane with its own variable and coefficients: a second polynomial
        // call pushed the array loop past C2's inlining budget, and GELU ran ~10x slower boxed.
        FloatVector t = a.min(ERF_ONE).sub(ERF_TAIL_CENTRE).blend(x.mul(x), small);
        FloatVector p = poly(t, ERF_TAIL_POLY, ERF_SMALL_POLY, small);
        // p is log(erfc) in [-17.2, -1.8] on the tail lanes (and below 1.2 on the others), well
        // inside the cheap exp's range.
        FloatVector tail = FloatVector.broadcast(S, 1f).sub(expNonPositive(p));
        tail = tail.blend(tail.neg(), x.lt(0f));
        return tail.blend(p.mul(x), small);
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
        return laneSum(acc);
    }

    /**
     * The lanes added in lane order. {@code reduceLanes(ADD)} leaves the order unspecified, and the
     * interpreted and JIT-compiled forms differ, so the same input gave different bits from run to
     * run; every float sum of lanes goes through here.
     */
    static float laneSum(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
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
