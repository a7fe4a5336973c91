package org.euterpe.pipeline.noise;

/**
 * Float32 natural log and sine/cosine exactly as PyTorch's x86 AVX2 build computes them in
 * {@code normal_fill_AVX2} (the Cephes polynomials of {@code avx_mathfun.h}), one lane at a time.
 *
 * <p>Bit-exactness needs the same operations in the same order with float32 rounding at each
 * step, and the same fused multiply-adds the shipped binary contains. The intrinsics are separate
 * multiplies and adds, but GCC compiles them as plain vector arithmetic with
 * {@code -ffp-contract=fast}, so every multiply whose only use is an add or subtract became an FMA;
 * where both operands of an add are products, the earlier-computed product is the fused one.
 * {@link Math#fma} marks each such place. The torch-randn goldens confirm this choice at every
 * place where fusing changes the result (the polynomial chains and the two-product sums); at the
 * others (products by 0.5 and by the short constants 0.693359375, DP1, DP2) the product is exact
 * and fusing is immaterial.
 */
final class CephesF32 {
    private CephesF32() {
    }

    private static final float SQRT_HALF = 0.707106781186547524f;
    private static final float[] LOG_P = {
        7.0376836292E-2f, -1.1514610310E-1f, 1.1676998740E-1f, -1.2420140846E-1f, 1.4249322787E-1f,
        -1.6668057665E-1f, 2.0000714765E-1f, -2.4999993993E-1f, 3.3333331174E-1f,
    };
    /** log(2) split in two so that {@code e * LOG_Q2} is exact. */
    private static final float LOG_Q1 = -2.12194440e-4f;
    private static final float LOG_Q2 = 0.693359375f;

    /** 4/pi, and pi/4 split in three for the extended-precision argument reduction. */
    private static final float FOUR_OVER_PI = 1.27323954473516f;
    private static final float MINUS_DP1 = -0.78515625f;
    private static final float MINUS_DP2 = -2.4187564849853515625e-4f;
    private static final float MINUS_DP3 = -3.77489497744594108e-8f;
    private static final float[] SIN_P = {-1.9515295891E-4f, 8.3321608736E-3f, -1.6666654611E-1f};
    private static final float[] COS_P = {2.443315711809948E-005f, -1.388731625493765E-003f, 4.166664568298827E-002f};

    /** Natural log; NaN for {@code x <= 0}, denormals treated as the smallest normal. */
    static float log(float x) {
        if (x <= 0f) {
            return Float.NaN;
        }
        int bits = Float.floatToRawIntBits(Math.max(x, Float.MIN_NORMAL));
        // Split into mantissa m in [0.5, 1) and exponent e.
        float e = (float) ((bits >>> 23) - 127) + 1f;
        float m = Float.intBitsToFloat((bits & ~0x7f800000) | Float.floatToRawIntBits(0.5f));
        // Keep m - 1 near zero: for m < sqrt(1/2) use 2m - 1 and one less in the exponent.
        boolean small = m < SQRT_HALF;
        float t = m - 1f;
        if (small) {
            e = e - 1f;
            t = t + m;
        }
        float z = t * t;
        float y = LOG_P[0];
        for (int k = 1; k < LOG_P.length; k++) {
            y = Math.fma(y, t, LOG_P[k]);
        }
        y = y * t;
        y = Math.fma(y, z, e * LOG_Q1);
        y = Math.fma(-z, 0.5f, y);
        return Math.fma(e, LOG_Q2, t + y);
    }

    /**
     * Sine and cosine of {@code x}, written to {@code out[0]} and {@code out[1]}. Accurate for
     * {@code |x| < 8192}, the range the Cephes reduction is built for.
     */
    static void sinCos(float x, float[] out) {
        int signSin = Float.floatToRawIntBits(x) & 0x80000000;
        float a = Math.abs(x);
        // Octant j, rounded up to even, so that a - j*pi/4 lies in [-pi/4, pi/4].
        int j = ((int) (a * FOUR_OVER_PI) + 1) & ~1;
        float fj = j;
        signSin ^= (j & 4) << 29;
        int signCos = (~(j - 2) & 4) << 29;
        boolean sinUsesSinPoly = (j & 2) == 0;

        float r = Math.fma(fj, MINUS_DP1, a);
        r = Math.fma(fj, MINUS_DP2, r);
        r = Math.fma(fj, MINUS_DP3, r);
        float z = r * r;

        float c = Math.fma(COS_P[0], z, COS_P[1]);
        c = Math.fma(c, z, COS_P[2]);
        c = c * z;
        c = Math.fma(c, z, -(z * 0.5f));
        c = c + 1f;

        float s = Math.fma(SIN_P[0], z, SIN_P[1]);
        s = Math.fma(s, z, SIN_P[2]);
        s = s * z;
        s = Math.fma(s, r, r);

        float sin = sinUsesSinPoly ? s : c;
        float cos = sinUsesSinPoly ? c : s;
        out[0] = Float.intBitsToFloat(Float.floatToRawIntBits(sin) ^ signSin);
        out[1] = Float.intBitsToFloat(Float.floatToRawIntBits(cos) ^ signCos);
    }
}
