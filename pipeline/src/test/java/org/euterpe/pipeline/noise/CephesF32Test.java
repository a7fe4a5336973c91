package org.euterpe.pipeline.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** Accuracy of the float32 Cephes approximations against the double-precision library functions. */
class CephesF32Test {
    @Test
    void logIsWithinTwoUlpsOnTheUnitInterval() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 200_000; i++) {
            // Every value 1 - u takes in normal_fill: multiples of 2^-24 in (0, 1].
            float x = (r.nextInt(1 << 24) + 1) * 0x1p-24f;
            double exact = StrictMath.log(x);
            assertTrue(Math.abs(CephesF32.log(x) - exact) <= 2 * Math.ulp((float) exact) + 1e-45,
                    () -> "log(" + x + ") = " + CephesF32.log(x) + ", exact " + exact);
        }
        assertEquals(0f, CephesF32.log(1f));
        assertEquals((float) StrictMath.log(0x1p-24), CephesF32.log(0x1p-24f), 2 * Math.ulp(16.6f));
    }

    @Test
    void logOfLargeValuesAndDenormals() {
        assertEquals((float) StrictMath.log(1e30), CephesF32.log(1e30f), 2 * Math.ulp(69f));
        // Denormals are clamped to the smallest normal, as the AVX code does.
        assertEquals(CephesF32.log(Float.MIN_NORMAL), CephesF32.log(Float.MIN_VALUE));
    }

    @Test
    void logOfNonPositiveIsNaN() {
        assertTrue(Float.isNaN(CephesF32.log(0f)));
        assertTrue(Float.isNaN(CephesF32.log(-1f)));
    }

    @Test
    void sinCosAreAccurateOverAFullTurnAndBeyond() {
        float[] sc = new float[2];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (r.nextDouble(-100, 100));
            CephesF32.sinCos(x, sc);
            double s = StrictMath.sin(x);
            double c = StrictMath.cos(x);
            assertTrue(Math.abs(sc[0] - s) <= 2.4e-7 && Math.abs(sc[1] - c) <= 2.4e-7,
                    () -> "sincos(" + x + ") = " + sc[0] + ", " + sc[1] + "; exact " + s + ", " + c);
        }
    }

    @Test
    void sinIsOddAndCosIsEven() {
        float[] pos = new float[2];
        float[] neg = new float[2];
        for (float x = 0.01f; x < 7f; x += 0.37f) {
            CephesF32.sinCos(x, pos);
            CephesF32.sinCos(-x, neg);
            assertEquals(-pos[0], neg[0]);
            assertEquals(pos[1], neg[1]);
        }
    }
}
