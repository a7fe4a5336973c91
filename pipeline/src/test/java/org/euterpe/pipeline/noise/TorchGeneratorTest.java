package org.euterpe.pipeline.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.euterpe.kernels.cpu.ScalarBackend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Generator state handling and input checks; the values themselves are checked by the conformance test. */
class TorchGeneratorTest {
    @Test
    void rand24BitUniformsComeStraightFromTheEngine() {
        Mt19937 mt = new Mt19937(3);
        float[] u = new TorchGenerator(3).rand(5);
        for (float v : u) {
            assertEquals((mt.nextInt() & 0xFFFFFF) / 16777216.0, v, 0.0);
        }
    }

    @Test
    void manualSeedRestartsTheSequenceAndDropsTheCachedNormal() {
        TorchGenerator g = new TorchGenerator(11);
        float[] first = g.randn(1);
        // An odd-sized scalar draw leaves the sine half of a pair cached; re-seeding must discard it.
        g.manualSeed(11);
        assertArrayEquals(first, g.randn(1));
        assertEquals(11, g.initialSeed());
    }

    @Test
    void theCachedNormalCarriesAcrossCalls() {
        float[] seven = new TorchGenerator(5).randn(7);
        float[] eight = new TorchGenerator(5).randn(8);
        TorchGenerator g = new TorchGenerator(5);
        float[] a = g.randn(7);
        float[] b = g.randn(1);
        assertArrayEquals(seven, a);
        // The 8th value is the cached half of the 4th pair, as in one 8-element draw.
        assertEquals(eight[7], b[0]);
    }

    @Test
    void shapeOnlyDecidesTheElementCount() {
        float[] flat = new TorchGenerator(9).randn(2 * 3 * 5);
        assertArrayEquals(flat, new TorchGenerator(9).randn(2, 3, 5));
        assertArrayEquals(flat, new TorchGenerator(9).randn(Shape.of(5, 6)));
    }

    @Test
    void tensorHelpersKeepShapeAndValues() {
        Shape shape = Shape.of(1, 2, 3, 4);
        try (Tensor t = new TorchGenerator(4).randn(new ScalarBackend(), shape)) {
            assertEquals(shape, t.shape());
            assertArrayEquals(new TorchGenerator(4).randn(shape), t.toFloatArray());
        }
        try (Tensor t = new TorchGenerator(4).rand(new ScalarBackend(), shape)) {
            assertArrayEquals(new TorchGenerator(4).rand(shape), t.toFloatArray());
        }
    }

    @Test
    void vectorPathNormalsLookStandard() {
        float[] x = new TorchGenerator(123).randn(1 << 16);
        double mean = 0;
        double sq = 0;
        for (float v : x) {
            assertTrue(Float.isFinite(v));
            mean += v;
            sq += (double) v * v;
        }
        mean /= x.length;
        double var = sq / x.length - mean * mean;
        // 2^16 samples: the standard error of the mean is 0.004, of the variance about 0.0055.
        assertEquals(0, mean, 0.02);
        assertEquals(1, var, 0.03);
    }

    @Test
    void aTailDrawsSixteenFreshUniforms() {
        // 17 elements: 17 uniforms for the fill, then 16 more for the tail, so the next rand
        // continues after 33 engine outputs.
        TorchGenerator g = new TorchGenerator(8);
        g.randn(17);
        float[] next = g.rand(1);
        float[] reference = new TorchGenerator(8).rand(34);
        assertEquals(reference[33], next[0]);
    }

    @Test
    void emptyDrawsLeaveTheStateAlone() {
        TorchGenerator g = new TorchGenerator(2);
        assertEquals(0, g.randn(0, 4).length);
        assertArrayEquals(new TorchGenerator(2).randn(3), g.randn(3));
    }

    @Test
    void distinctSeedsGiveDistinctNoise() {
        assertNotEquals(Arrays.toString(new TorchGenerator(0).randn(32)),
                Arrays.toString(new TorchGenerator(1).randn(32)));
    }

    @Test
    void badShapesAreRejected() {
        TorchGenerator g = new TorchGenerator(0);
        assertThrows(IllegalArgumentException.class, () -> g.randn(2, -1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.rand(65536, 65536));
        assertTrue(e.getMessage().contains("elements"), e.getMessage());
    }
}
