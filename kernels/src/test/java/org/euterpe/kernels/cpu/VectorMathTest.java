package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;

import org.junit.jupiter.api.Test;

/** The softmax exponential against Math.exp in double. */
class VectorMathTest {
    private static final int L = VectorMath.S.length();

    private static float expNonPositive(float x) {
        float[] y = new float[L];
        VectorMath.expNonPositive(FloatVector.broadcast(VectorMath.S, x)).intoArray(y, 0);
        return y[0];
    }

    @Test
    void expNonPositiveIsAccurateDownToTheNormalRange() {
        double maxRel = 0;
        // Dense over [-87.3, 0], including every rounding boundary region of n = round(x log2e).
        for (int i = 0; i <= 2_000_000; i++) {
            float x = (float) (-87.3 * i / 2_000_000);
            double ref = Math.exp(x);
            maxRel = Math.max(maxRel, Math.abs(expNonPositive(x) - ref) / ref);
        }
        assertTrue(maxRel < 2.5e-7, "relative error " + maxRel); // ~2 ulp
        assertEquals(1f, expNonPositive(0f));
        assertEquals(1f, expNonPositive(-0f));
    }

    @Test
    void expNonPositiveFlushesBelowTheNormalRangeAndKeepsNaN() {
        // Down to ln(FLT_MIN) the result is within an ulp of the smallest normals; below, 0.
        assertEquals(Math.exp(-87.33f), expNonPositive(-87.33f), 2e-45);
        assertEquals(0f, expNonPositive(-87.34f));
        assertEquals(0f, expNonPositive(-100f));
        assertEquals(0f, expNonPositive(-Float.MAX_VALUE));
        assertEquals(0f, expNonPositive(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(expNonPositive(Float.NaN)));
    }

    @Test
    void scalarExpNonPositiveGivesTheVectorFormsBits() {
        float[] xs = new float[L];
        float[] ys = new float[L];
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int i = 0; i < 200_000; i++) {
            for (int j = 0; j < L; j++) { // mostly the softmax range, some beyond the flush point
                xs[j] = (float) (i % 10 == 0 ? -120 * rng.nextDouble() : -30 * rng.nextDouble() * rng.nextDouble());
            }
            VectorMath.expNonPositive(FloatVector.fromArray(VectorMath.S, xs, 0)).intoArray(ys, 0);
            for (int j = 0; j < L; j++) {
                assertEquals(Float.floatToRawIntBits(ys[j]), Float.floatToRawIntBits(VectorMath.expNonPositive(xs[j])),
                        () -> "x = " + java.util.Arrays.toString(xs));
            }
        }
        for (float x : new float[] {0f, -0f, -87.33f, -87.34f, Float.NEGATIVE_INFINITY, -Float.MIN_VALUE}) {
            assertEquals(expNonPositive(x), VectorMath.expNonPositive(x), "x = " + x);
        }
        assertTrue(Float.isNaN(VectorMath.expNonPositive(Float.NaN)));
    }
}
