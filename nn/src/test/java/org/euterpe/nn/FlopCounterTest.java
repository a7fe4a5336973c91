package org.euterpe.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.euterpe.kernels.cpu.ScalarBackend;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** FLOP counts against hand-derived formulas, on layers built from {@link Weights#random}. */
class FlopCounterTest {
    private final Backend backend = new ScalarBackend();

    @Test
    void countsConvolutionAndLinearMultiplyAccumulates() {
        Weights w = Weights.random(backend, "test", 7, DType.F32);
        Conv2d conv = Conv2d.load(w.child("conv"), 3, 4, 3, 1, 1);
        Linear lin = Linear.load(w.child("lin"), 5, 6);
        FlopCounter.reset();
        Tensor y = conv.forward(backend.randn(Shape.of(2, 3, 5, 5), 1));
        // every output [2, 4, 5, 5] takes cin * k * k = 27 multiply-accumulates
        assertEquals(2L * 2 * 4 * 5 * 5 * 27, FlopCounter.flops());
        assertArrayEquals(new int[] {2, 4, 5, 5}, y.shape().dims());
        FlopCounter.reset();
        lin.forward(backend.randn(Shape.of(3, 5), 2));
        assertEquals(2L * 3 * 5 * 6, FlopCounter.flops());
    }

    @Test
    void randomWeightsAreScaledByFanInWithUnitNormsAndZeroBiases() {
        Weights w = Weights.random(backend, "test", 7, DType.F32);
        float[] m = w.get("m.weight", 64, 400).toFloatArray();
        double var = 0;
        for (float v : m) {
            var += v * v;
        }
        assertEquals(1.0 / 400, var / m.length, 0.1 / 400); // N(0, 1/fan_in)
        assertArrayEquals(new float[] {1, 1, 1}, w.get("norm.weight", 3).toFloatArray());
        assertArrayEquals(new float[] {0, 0}, w.get("norm.bias", 2).toFloatArray());
        assertEquals(false, w.has("position_ids"));
    }
}
