package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;

import org.euterpe.kernels.OpCases;
import org.euterpe.kernels.OpHarness;
import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

/** The reference backend against values derived by hand (or, for erf/GELU, by mpmath at 30 digits). */
class ScalarBackendTest {
    private final ScalarBackend be = new ScalarBackend();

    private Tensor t(float[] v, int... dims) {
        return be.fromArray(v, Shape.of(dims));
    }

    private static void close(float[] expected, Tensor actual, double tol) {
        assertArrayEquals(expected, actual.toFloatArray(), (float) tol);
    }

    // ------------------------------------------------------------ linear algebra

    @Test
    void matmulByHand() {
        Tensor a = t(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = t(new float[] {7, 8, 9, 10, 11, 12}, 3, 2);
        // [1 2 3; 4 5 6] @ [7 8; 9 10; 11 12] = [58 64; 139 154]
        Tensor p = be.matmul(a, b, false, false, 1f, null, 0f, null);
        assertEquals(Shape.of(2, 2), p.shape());
        close(new float[] {58, 64, 139, 154}, p, 0);
        // a^T given as [3,2] with transA; b^T given as [2,3] with transB: same product.
        Tensor at = t(new float[] {1, 4, 2, 5, 3, 6}, 3, 2);
        Tensor bt = t(new float[] {7, 9, 11, 8, 10, 12}, 2, 3);
        close(new float[] {58, 64, 139, 154}, be.matmul(at, bt, true, true, 1f, null, 0f, null), 0);
        // 0.5 * p + bias [1, -1] + 2 * c with c = ones
        Tensor c = t(new float[] {1, 1, 1, 1}, 2, 2);
        close(new float[] {29 + 1 + 2, 32 - 1 + 2, 69.5f + 1 + 2, 77 - 1 + 2},
                be.matmul(a, b, false, false, 0.5f, t(new float[] {1, -1}, 2), 2f, c), 0);
    }

    @Test
    void matmulSharesRank2OperandOverBatch() {
        Tensor a = t(new float[] {1, 0, 0, 1, 2, 0, 0, 2}, 2, 2, 2); // identity, then 2*identity
        Tensor b = t(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor p = be.matmul(a, b, false, false, 1f, null, 0f, null);
        assertEquals(Shape.of(2, 2, 2), p.shape());
        close(new float[] {1, 2, 3, 4, 2, 4, 6, 8}, p, 0);
    }

    @Test
    void linearWithQuantisedWeight() {
        // weight rows [1, 2] * 0.5 and [-3, 4] * 0.25 = [0.5, 1] and [-0.75, 1]
        MemorySegment q = MemorySegment.ofArray(new byte[] {1, 2, -3, 4});
        Tensor w = be.fromHost(q, DType.I8, Shape.of(2, 2), t(new float[] {0.5f, 0.25f}, 2));
        Tensor y = be.linear(t(new float[] {2, 3}, 1, 2), w, t(new float[] {10, 20}, 2));
        close(new float[] {1 + 3 + 10, -1.5f + 3 + 20}, y, 0);
        assertEquals(Shape.of(1, 2), y.shape());
    }

    @Test
    void linearWithHalfWeights() {
        for (DType dt : new DType[] {DType.F16, DType.BF16}) {
            Tensor w = be.cast(t(new float[] {0.5f, -2f, 1.25f, 3f}, 2, 2), dt);
            close(new float[] {0.5f - 4, 1.25f + 6}, be.linear(t(new float[] {1, 2}, 2), w, null), 0);
        }
    }

    // ------------------------------------------------------------ convolutions

    @Test
    void conv2dByHand() {
        // 3x3 input 1..9, 2x2 kernel [1 0; 0 -1]: out[y,x] = in[y,x] - in[y+1,x+1] = -4 everywhere.
        Tensor x = t(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        Tensor w = t(new float[] {1, 0, 0, -1}, 1, 1, 2, 2);
        Tensor y = be.conv2d(x, w, t(new float[] {0.5f}, 1), 1, 0, 1);
        assertEquals(Shape.of(1, 1, 2, 2), y.shape());
        close(new float[] {-3.5f, -3.5f, -3.5f, -3.5f}, y, 0);
        // Padding 1, stride 2: output 2x2 at top-left corners (-1,-1), (-1,1), (1,-1), (1,1):
        // (-1,-1): 1*0 - 1*in[0,0] = -1; (-1,1): 0 - in[0,2] = -3; (1,-1): 0 - in[2,0] = -7; (1,1): 5 - 9 = -4.
        close(new float[] {-1, -3, -7, -4}, be.conv2d(x, w, null, 2, 1, 1), 0);
        // Dilation 2 on the 3x3 input: one output, in[0,0] - in[2,2] = -8.
        close(new float[] {-8}, be.conv2d(x, w, null, 1, 0, 2), 0);
    }

    @Test
    void conv2dSumsOverInputChannels() {
        // Two input channels of ones and twos, 1x1 kernels [3, 4] -> 3 + 8 = 11 at every pixel.
        Tensor x = t(new float[] {1, 1, 2, 2}, 1, 2, 1, 2);
        Tensor w = t(new float[] {3, 4}, 1, 2, 1, 1);
        close(new float[] {11, 11}, be.conv2d(x, w, null, 1, 0, 1), 0);
    }

    @Test
    void conv1dByHand() {
        // x = 1..5, kernel [1, 2, 3] with dilation 2: out[i] = x[i] + 2 x[i+2] + 3 x[i+4], one output: 1+6+15.
        Tensor x = t(new float[] {1, 2, 3, 4, 5}, 1, 1, 5);
        Tensor w = t(new float[] {1, 2, 3}, 1, 1, 3);
        close(new float[] {22}, be.conv1d(x, w, null, 1, 0, 2), 0);
        // Padding 1, stride 2: windows [0,1,2] at -1, 1, 3 -> 0+2+6, 2+6+12, 4+10+0.
        Tensor y = be.conv1d(x, w, null, 2, 1, 1);
        assertEquals(Shape.of(1, 1, 3), y.shape());
        close(new float[] {8, 20, 14}, y, 0);
    }

    @Test
    void convTranspose1dByHand() {
        // x = [1, 2, 3], kernel [1, 10], stride 2: each input spreads to two outputs.
        Tensor x = t(new float[] {1, 2, 3}, 1, 1, 3);
        Tensor w = t(new float[] {1, 10}, 1, 1, 2);
        Tensor y = be.convTranspose1d(x, w, null, 2, 0, 0, 1);
        // length (3-1)*2 - 0 + 1*(2-1) + 0 + 1 = 6
        assertEquals(Shape.of(1, 1, 6), y.shape());
        close(new float[] {1, 10, 2, 20, 3, 30}, y, 0);
        // padding 1 crops one from each end: length 4
        close(new float[] {10, 2, 20, 3}, be.convTranspose1d(x, w, null, 2, 1, 0, 1), 0);
        // output padding 1 adds a trailing position that only the bias reaches
        close(new float[] {1.5f, 10.5f, 2.5f, 20.5f, 3.5f, 30.5f, 0.5f},
                be.convTranspose1d(x, w, t(new float[] {0.5f}, 1), 2, 0, 1, 1), 0);
        // stride 1, kernel 2: overlapping taps add: [1, 10+2, 20+3, 30]
        close(new float[] {1, 12, 23, 30}, be.convTranspose1d(x, w, null, 1, 0, 0, 1), 0);
    }

    @Test
    void convTranspose1dChannelsAndLengthFormula() {
        // weight [in=2, out=1, k=3] with dilation 2: length (2-1)*3 - 2*1 + 2*2 + 1 + 1 = 7
        Tensor x = t(new float[] {1, 2, 3, 4}, 1, 2, 2);
        Tensor w = t(new float[] {1, 1, 1, 1, 0, 0}, 2, 1, 3);
        Tensor y = be.convTranspose1d(x, w, null, 3, 1, 1, 2);
        assertEquals(Shape.of(1, 1, 7), y.shape());
        // Before cropping (positions -1..): channel 0 taps at i*3 + {0,2,4}, channel 1 tap at i*3.
        // full[t] for t = 0..9: x0[0] at 0,2,4; x0[1]=2 at 3,5,7; x1[0]=3 at 0; x1[1]=4 at 3
        // full = [1+3, 0, 1, 2+4, 1, 2, 0, 2, 0, 0]; output = full[1..7]
        close(new float[] {0, 1, 6, 1, 2, 0, 2}, y, 0);
    }

    // ------------------------------------------------------------ normalisation

    @Test
    void groupNormStatistics() {
        // One sample, 4 channels of 1 element, 2 groups: groups {1, 3} and {10, 30}.
        Tensor x = t(new float[] {1, 3, 10, 30}, 1, 4, 1);
        Tensor y = be.groupNorm(x, 2, null, null, 0f, false);
        // (v - mean) / sqrt(biased var): var of {1,3} is 1, of {10,30} is 100.
        close(new float[] {-1, 1, -1, 1}, y, 1e-7);
        Tensor g = t(new float[] {1, 2, 3, 4}, 4);
        Tensor b = t(new float[] {0, 0, 1, 1}, 4);
        close(new float[] {-1, 2, -2, 5}, be.groupNorm(x, 2, g, b, 0f, false), 1e-6);
        // with SiLU: v * sigmoid(v)
        float[] expect = {-1, 2, -2, 5};
        for (int i = 0; i < 4; i++) {
            expect[i] = (float) (expect[i] / (1 + Math.exp(-expect[i])));
        }
        close(expect, be.groupNorm(x, 2, g, b, 0f, true), 1e-6);
        // eps enters under the root: {1, 3} with eps 3 -> +-1/2
        close(new float[] {-0.5f, 0.5f}, be.groupNorm(t(new float[] {1, 3}, 1, 2), 1, null, null, 3f, false), 1e-7);
    }

    @Test
    void layerNormByHand() {
        // [1,2,3,4]: mean 2.5, biased var 1.25
        Tensor y = be.layerNorm(t(new float[] {1, 2, 3, 4}, 1, 4), null, null, 0f);
        double s = Math.sqrt(1.25);
        close(new float[] {(float) (-1.5 / s), (float) (-0.5 / s), (float) (0.5 / s), (float) (1.5 / s)}, y, 1e-7);
        Tensor z = be.layerNorm(t(new float[] {5, 7}, 2), t(new float[] {2, 3}, 2), t(new float[] {1, 1}, 2), 0f);
        close(new float[] {-1, 4}, z, 1e-7);
    }

    @Test
    void softmaxByHand() {
        Tensor y = be.softmax(t(new float[] {0, (float) Math.log(2), (float) Math.log(3)}, 1, 3));
        close(new float[] {1 / 6f, 2 / 6f, 3 / 6f}, y, 1e-7);
        // Huge logits do not overflow: max subtraction
        close(new float[] {0.5f, 0.5f, 0}, be.softmax(t(new float[] {1000, 1000, -1000}, 3)), 0);
    }

    @Test
    void attentionEqualsSoftmaxOfScores() {
        // q = [[1, 0]], k = [[1, 0], [0, 1]], scale ln(3): scores [ln 3, 0] -> weights [3/4, 1/4].
        Tensor q = t(new float[] {1, 0}, 1, 1, 1, 2);
        Tensor k = t(new float[] {1, 0, 0, 1}, 1, 1, 2, 2);
        Tensor v = t(new float[] {4, 8, 0, 100}, 1, 1, 2, 2);
        close(new float[] {3, 31}, be.attention(q, k, v, null, (float) Math.log(3)), 1e-5);
        // An additive mask of -ln 3 on key 0 equalises the weights.
        Tensor mask = t(new float[] {(float) -Math.log(3), 0}, 1, 1, 1, 2);
        close(new float[] {2, 54}, be.attention(q, k, v, mask, (float) Math.log(3)), 1e-5);
    }

    @Test
    void attentionEqualsComposedOps() {
        org.euterpe.kernels.RandomTensors r = new org.euterpe.kernels.RandomTensors(be, 7);
        Tensor q = r.randn(2, 3, 5, 4);
        Tensor k = r.randn(2, 3, 6, 4);
        Tensor v = r.randn(2, 3, 6, 3);
        Tensor mask = r.randn(2, 1, 5, 6);
        Tensor scores = be.binary(BinaryOp.ADD, be.matmul(q, k, false, true, 0.5f, null, 0f, null), mask);
        Tensor expected = be.matmul(be.softmax(scores), v, false, false, 1f, null, 0f, null);
        close(expected.toFloatArray(), be.attention(q, k, v, mask, 0.5f), 1e-6);
    }

    // ------------------------------------------------------------ element-wise

    @Test
    void erfMatchesHighPrecisionValues() {
        // mpmath, 30 digits
        double[][] erf = {{0.25, 0.27632639016823693299}, {1, 0.84270079294971486934}, {2.5, 0.99959304798255504106},
            {3, 0.99997790950300141456}, {4.5, 0.99999999980338395585}, {-2, -0.99532226501895273416}};
        for (double[] p : erf) {
            assertEquals(p[1], ScalarBackend.erf(p[0]), 1e-15, "erf(" + p[0] + ")");
        }
        double[][] erfc = {{0.25, 0.72367360983176306701}, {1, 0.15729920705028513066},
            {2.5, 0.00040695201744495893956},
            {3, 0.000022090496998585441373}, {4.5, 1.9661604415428874763e-10}, {-2, 1.9953222650189527342}};
        for (double[] p : erfc) {
            assertEquals(p[1], ScalarBackend.erfc(p[0]), Math.abs(p[1]) * 1e-13, "erfc(" + p[0] + ")");
        }
    }

    @Test
    void geluMatchesHighPrecisionValues() {
        // x * Phi(x), mpmath at 30 digits
        double[][] gelu = {{0.5, 0.34573123063700655182}, {1, 0.84134474606854294859},
            {-1, -0.15865525393145705141}, {2, 1.9544997361036415856}, {-3, -0.00404969409489028358},
            {3, 2.9959503059051097164}, {-6, -5.9195258702261888442e-9}, {0.1, 0.053982783727702898147},
            {-0.5, -0.15426876936299344818}, {5.5, 5.4999998955574064376}, {-10, -7.619853024160526066e-23}};
        for (double[] p : gelu) {
            assertEquals(p[1], ScalarBackend.gelu(p[0]), Math.abs(p[1]) * 1e-13, "gelu(" + p[0] + ")");
        }
        // and through the op, rounded to float
        float[] x = {0.5f, -3f, -6f};
        float[] out = be.unary(UnaryOp.GELU, t(x, 3), 0f).toFloatArray();
        assertEquals((float) 0.34573123063700655182, out[0]);
        assertEquals((float) -0.00404969409489028358, out[1]);
        assertEquals((float) -5.9195258702261888442e-9, out[2]);
    }

    @Test
    void unaryOpsByHand() {
        Tensor x = t(new float[] {-2, 0, 4}, 3);
        close(new float[] {0, 0, 4}, be.unary(UnaryOp.RELU, x, 0f), 0);
        close(new float[] {-0.2f, 0, 4}, be.unary(UnaryOp.LEAKY_RELU, x, 0.1f), 0);
        close(new float[] {2, -0f, -4}, be.unary(UnaryOp.NEG, x, 0f), 0);
        close(new float[] {(float) Math.exp(-2), 1, (float) Math.exp(4)}, be.unary(UnaryOp.EXP, x, 0f), 0);
        close(new float[] {(float) (1 / (1 + Math.exp(2))), 0.5f, (float) (1 / (1 + Math.exp(-4)))},
                be.unary(UnaryOp.SIGMOID, x, 0f), 0);
        close(new float[] {(float) (-2 / (1 + Math.exp(2))), 0, (float) (4 / (1 + Math.exp(-4)))},
                be.unary(UnaryOp.SILU, x, 0f), 0);
        close(new float[] {(float) Math.tanh(-2), 0, (float) Math.tanh(4)}, be.unary(UnaryOp.TANH, x, 0f), 0);
        float[] sq = be.unary(UnaryOp.SQRT, x, 0f).toFloatArray();
        assertTrue(Float.isNaN(sq[0]));
        assertEquals(0f, sq[1]);
        assertEquals(2f, sq[2]);
    }

    @Test
    void binaryBroadcastsLikeNumpy() {
        Tensor col = t(new float[] {10, 20}, 2, 1);
        Tensor row = t(new float[] {1, 2, 3}, 3);
        Tensor s = be.binary(BinaryOp.ADD, col, row);
        assertEquals(Shape.of(2, 3), s.shape());
        close(new float[] {11, 12, 13, 21, 22, 23}, s, 0);
        close(new float[] {9, 8, 7, 19, 18, 17}, be.binary(BinaryOp.SUB, col, row), 0);
        close(new float[] {-9, -8, -7}, be.binary(BinaryOp.SUB, row, t(new float[] {10}, 1, 1)).reshape(3), 0);
        Tensor scalar = be.fromArray(new float[] {4}, Shape.of());
        close(new float[] {0.25f, 0.5f, 0.75f}, be.binary(BinaryOp.DIV, row, scalar), 0);
        close(new float[] {4, 2}, be.binary(BinaryOp.DIV, scalar, t(new float[] {1, 2}, 2)), 0);
        close(new float[] {2, 4, 6}, be.scalar(BinaryOp.MUL, row, 2f), 0);
        close(new float[] {-1, 0, 1}, be.scalar(BinaryOp.SUB, row, 2f), 0);
    }

    @Test
    void reductionsByHand() {
        Tensor x = t(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor s0 = be.sum(x, 0, false);
        assertEquals(Shape.of(3), s0.shape());
        close(new float[] {5, 7, 9}, s0, 0);
        Tensor m1 = be.mean(x, -1, true);
        assertEquals(Shape.of(2, 1), m1.shape());
        close(new float[] {2, 5}, m1, 0);
        Tensor all = be.sum(be.sum(x, 1, false), 0, false);
        assertEquals(Shape.of(), all.shape());
        assertEquals(21f, all.item());
    }

    @Test
    void l2NormalizeByHand() {
        Tensor y = be.l2Normalize(t(new float[] {3, 4, 0, 0, 3e-7f, 4e-7f}, 3, 2), 1e-6f);
        // the last row has norm 5e-7 < eps, so it is divided by eps
        close(new float[] {0.6f, 0.8f, 0, 0, 0.3f, 0.4f}, y, 1e-7);
    }

    // ------------------------------------------------------------ refusals

    @Test
    void refusesInvalidInput() {
        for (OpHarness.Reject r : OpCases.rejects()) {
            OpHarness.assertRejects(be, r);
        }
    }

    @Test
    void shapeErrorsNameTheShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> be.matmul(t(new float[12], 3, 4), t(new float[30], 5, 6), false, false, 1f, null, 0f, null));
        assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains("[5, 6]"), e.getMessage());
    }
}
