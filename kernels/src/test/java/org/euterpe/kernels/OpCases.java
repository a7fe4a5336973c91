package org.euterpe.kernels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import org.euterpe.kernels.OpHarness.OpCase;
import org.euterpe.kernels.OpHarness.Reject;
import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/**
 * The cross-backend op suite: every compute and data-movement op of the Backend interface on
 * random inputs, including awkward sizes (1, 3, 17, 63, 65: not multiples of any vector width
 * or tile) and every weight dtype for the ops that take weights.
 */
public final class OpCases {
    private OpCases() {
    }

    /** GEMM-like ops and reductions over moderate sizes, in f32. */
    static final double ACCUMULATING = 1e-5;
    /** Element-wise transcendental functions (a backend may use its own approximations). */
    static final double TRANSCENDENTAL = 1e-5;
    /** Element-wise arithmetic: one rounding, but a device division may be a few ulp off. */
    static final double ARITHMETIC = 1e-6;
    /** Pure copies. */
    static final double EXACT = 0;

    private static final DType[] WEIGHT_TYPES = {DType.F32, DType.F16, DType.BF16, DType.I8};
    private static final DType[] LOW_PRECISION = {DType.F16, DType.BF16, DType.I8};

    /** Every comparison case. */
    public static List<OpCase> all() {
        List<OpCase> c = new ArrayList<>();
        matmul(c);
        linear(c);
        convolutions(c);
        normalisation(c);
        attention(c);
        elementWise(c);
        reductions(c);
        dataMovement(c);
        audioActivations(c);
        gatedActivation(c);
        resampling(c);
        return c;
    }

    private static void add(List<OpCase> c, String op, String detail, double tol, Function<RandomTensors, Tensor> f) {
        c.add(new OpCase(op, detail, tol, f));
    }

    private static String dims(int... d) {
        return Arrays.toString(d);
    }

    // ---------------------------------------------------------------- linear algebra

    private static void matmul(List<OpCase> c) {
        int[][] mkn = {{1, 1, 1}, {3, 17, 5}, {17, 63, 65}, {65, 3, 17}, {16, 64, 33}};
        for (int[] s : mkn) {
            int m = s[0];
            int k = s[1];
            int n = s[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    add(c, "matmul", m + "x" + k + "x" + n + (ta ? " transA" : "") + (tb ? " transB" : ""),
                            ACCUMULATING, r -> r.backend().matmul(ta ? r.randn(k, m) : r.randn(m, k),
                                    tb ? r.randn(n, k) : r.randn(k, n), ta, tb, 1f, null, 0f, null));
                }
            }
        }
        add(c, "matmul", "batched [2,3,17,16] @ [2,3,16,65]", ACCUMULATING,
                r -> r.backend().matmul(r.randn(2, 3, 17, 16), r.randn(2, 3, 16, 65), false, false, 1f, null, 0f,
                        null));
        add(c, "matmul", "batched transA transB [2,3,16,17]^T @ [2,3,65,16]^T", ACCUMULATING,
                r -> r.backend().matmul(r.randn(2, 3, 16, 17), r.randn(2, 3, 65, 16), true, true, 1f, null, 0f,
                        null));
        add(c, "matmul", "rank-2 b shared over batch [3,5,17] @ [17,63]", ACCUMULATING,
                r -> r.backend().matmul(r.randn(3, 5, 17), r.randn(17, 63), false, false, 1f, null, 0f, null));
        add(c, "matmul", "rank-2 b shared, transB [2,2,9,17] @ [63,17]^T", ACCUMULATING,
                r -> r.backend().matmul(r.randn(2, 2, 9, 17), r.randn(63, 17), false, true, 1f, null, 0f, null));
        add(c, "matmul", "alpha 0.5, bias, beta 0.75 * c [2,17,63] @ [63,65]", ACCUMULATING,
                r -> r.backend().matmul(r.randn(2, 17, 63), r.randn(63, 65), false, false, 0.5f, r.randn(65), 0.75f,
                        r.randn(2, 17, 65)));
        add(c, "matmul", "alpha -2, c, beta 1, transB [5,3] @ [7,3]^T", ACCUMULATING,
                r -> r.backend().matmul(r.randn(5, 3), r.randn(7, 3), false, true, -2f, null, 1f, r.randn(5, 7)));
        for (DType dt : LOW_PRECISION) {
            add(c, "matmul", dt + " b, transB [2,17,63] @ [65,63]^T", ACCUMULATING,
                    r -> r.backend().matmul(r.randn(2, 17, 63), r.weight(dt, 65, 63), false, true, 1f, null, 0f,
                            null));
            add(c, "matmul", dt + " b [3,5,63] @ [63,17] + bias", ACCUMULATING,
                    r -> r.backend().matmul(r.randn(3, 5, 63), r.weight(dt, 63, 17), false, false, 1f, r.randn(17),
                            0f, null));
        }
    }

    private static void linear(List<OpCase> c) {
        for (DType dt : WEIGHT_TYPES) {
            add(c, "linear", dt + " [2,5,63] x [65,63] + bias", ACCUMULATING,
                    r -> r.backend().linear(r.randn(2, 5, 63), r.weight(dt, 65, 63), r.randn(65)));
            add(c, "linear", dt + " [3,17] x [16,17], no bias", ACCUMULATING,
                    r -> r.backend().linear(r.randn(3, 17), r.weight(dt, 16, 17), null));
        }
        add(c, "linear", "[1,1] x [1,1] + bias", ACCUMULATING,
                r -> r.backend().linear(r.randn(1, 1), r.randn(1, 1), r.randn(1)));
        add(c, "linear", "[1,2,256] x [3,256]", ACCUMULATING,
                r -> r.backend().linear(r.randn(1, 2, 256), r.weight(DType.F32, 3, 256), r.randn(3)));
        add(c, "linear", "[65] x [1,65] (rank-1 x)", ACCUMULATING,
                r -> r.backend().linear(r.randn(65), r.weight(DType.F32, 1, 65), null));
    }

    private static void convolutions(List<OpCase> c) {
        conv2d(c, "3x3 s1 p1 + bias", new int[] {2, 3, 9, 11}, new int[] {5, 3, 3, 3}, 1, 1, 1, DType.F32, true);
        conv2d(c, "3x3 s2 p1 (downsample)", new int[] {1, 4, 17, 16}, new int[] {8, 4, 3, 3}, 2, 1, 1, DType.F32,
                true);
        conv2d(c, "3x3 dilation 2 p2", new int[] {1, 3, 13, 15}, new int[] {4, 3, 3, 3}, 1, 2, 2, DType.F32, true);
        conv2d(c, "1x1", new int[] {2, 17, 5, 7}, new int[] {16, 17, 1, 1}, 1, 0, 1, DType.F32, true);
        conv2d(c, "3x3 p1, 17 -> 16 channels", new int[] {1, 17, 13, 15}, new int[] {16, 17, 3, 3}, 1, 1, 1,
                DType.F32, false);
        conv2d(c, "5x5 s3 p0", new int[] {1, 2, 17, 17}, new int[] {3, 2, 5, 5}, 3, 0, 1, DType.F32, true);
        conv2d(c, "3x3 on 1x1 input p1", new int[] {1, 3, 1, 1}, new int[] {2, 3, 3, 3}, 1, 1, 1, DType.F32, true);
        for (DType dt : LOW_PRECISION) {
            conv2d(c, "3x3 p1", new int[] {1, 5, 9, 10}, new int[] {7, 5, 3, 3}, 1, 1, 1, dt, true);
        }

        conv1d(c, "k3 s1 p1 + bias", new int[] {2, 5, 31}, new int[] {7, 5, 3}, 1, 1, 1, DType.F32);
        conv1d(c, "k7 s2 p3 d2", new int[] {1, 4, 63}, new int[] {6, 4, 7}, 2, 3, 2, DType.F32);
        conv1d(c, "k1", new int[] {1, 3, 17}, new int[] {5, 3, 1}, 1, 0, 1, DType.F32);
        conv1d(c, "k3 p5 d5 (HiFi-GAN resblock)", new int[] {1, 8, 65}, new int[] {8, 8, 3}, 1, 5, 5, DType.F32);
        for (DType dt : LOW_PRECISION) {
            conv1d(c, "k3 p1", new int[] {2, 5, 31}, new int[] {7, 5, 3}, 1, 1, 1, dt);
        }

        convT(c, "k4 s2 p1", new int[] {2, 5, 17}, new int[] {5, 7, 4}, 2, 1, 0, 1, DType.F32);
        convT(c, "k16 s8 p4 (HiFi-GAN upsample)", new int[] {1, 4, 9}, new int[] {4, 3, 16}, 8, 4, 0, 1, DType.F32);
        convT(c, "k3 s3 p0 outputPadding 1", new int[] {1, 3, 10}, new int[] {3, 2, 3}, 3, 0, 1, 1, DType.F32);
        convT(c, "k3 s1 p2 d2", new int[] {1, 2, 5}, new int[] {2, 3, 3}, 1, 2, 0, 2, DType.F32);
        convT(c, "k1 s1, length 1", new int[] {1, 3, 1}, new int[] {3, 2, 1}, 1, 0, 0, 1, DType.F32);
        for (DType dt : LOW_PRECISION) {
            convT(c, "k4 s2 p1", new int[] {2, 5, 17}, new int[] {5, 7, 4}, 2, 1, 0, 1, dt);
        }
    }

    private static void conv2d(List<OpCase> c, String what, int[] x, int[] w, int stride, int pad, int dil, DType dt,
            boolean bias) {
        add(c, "conv2d", dt + " " + what + " x " + dims(x) + " w " + dims(w), ACCUMULATING,
                r -> r.backend().conv2d(r.randn(x), r.weight(dt, w), bias ? r.randn(w[0]) : null, stride, pad, dil));
    }

    private static void conv1d(List<OpCase> c, String what, int[] x, int[] w, int stride, int pad, int dil, DType dt) {
        add(c, "conv1d", dt + " " + what + " x " + dims(x) + " w " + dims(w), ACCUMULATING,
                r -> r.backend().conv1d(r.randn(x), r.weight(dt, w), r.randn(w[0]), stride, pad, dil));
    }

    private static void convT(List<OpCase> c, String what, int[] x, int[] w, int stride, int pad, int outPad, int dil,
            DType dt) {
        add(c, "convTranspose1d", dt + " " + what + " x " + dims(x) + " w " + dims(w), ACCUMULATING,
                r -> r.backend().convTranspose1d(r.randn(x), r.weight(dt, w), r.randn(w[1]), stride, pad, outPad,
                        dil));
    }

    // ---------------------------------------------------------------- normalisation and attention

    private static void normalisation(List<OpCase> c) {
        for (boolean silu : new boolean[] {false, true}) {
            String s = silu ? " + SiLU" : "";
            add(c, "groupNorm", "[2,32,5,7] 8 groups, affine" + s, ACCUMULATING,
                    r -> r.backend().groupNorm(r.randn(2, 32, 5, 7), 8, r.randn(32), r.randn(32), 1e-5f, silu));
            add(c, "groupNorm", "[1,64,3,3] 32 groups, mean 5" + s, ACCUMULATING,
                    r -> r.backend().groupNorm(r.uniform(4, 6, 1, 64, 3, 3), 32, r.randn(64), r.randn(64), 1e-6f,
                            silu));
        }
        add(c, "groupNorm", "[1,6,17] 3 groups, no affine", ACCUMULATING,
                r -> r.backend().groupNorm(r.randn(1, 6, 17), 3, null, null, 1e-5f, false));
        add(c, "groupNorm", "[3,4] 2 groups, no spatial dims", ACCUMULATING,
                r -> r.backend().groupNorm(r.randn(3, 4), 2, r.randn(4), r.randn(4), 1e-5f, false));
        add(c, "groupNorm", "[1,3,1,1] 3 groups, one element per group", ACCUMULATING,
                r -> r.backend().groupNorm(r.randn(1, 3, 1, 1), 3, r.randn(3), r.randn(3), 1e-5f, true));

        add(c, "layerNorm", "[3,17,65] affine", ACCUMULATING,
                r -> r.backend().layerNorm(r.randn(3, 17, 65), r.randn(65), r.randn(65), 1e-5f));
        add(c, "layerNorm", "[2,768] mean 10, no affine", ACCUMULATING,
                r -> r.backend().layerNorm(r.uniform(9, 11, 2, 768), null, null, 1e-12f));
        add(c, "layerNorm", "[5,1]", ACCUMULATING,
                r -> r.backend().layerNorm(r.randn(5, 1), r.randn(1), r.randn(1), 1e-5f));

        add(c, "softmax", "[7,65]", ACCUMULATING, r -> r.backend().softmax(r.randn(7, 65)));
        add(c, "softmax", "[3,1]", ACCUMULATING, r -> r.backend().softmax(r.randn(3, 1)));
        add(c, "softmax", "[2,3,17] values up to +-80 (needs max subtraction)", ACCUMULATING,
                r -> r.backend().softmax(r.uniform(-80, 80, 2, 3, 17)));
        add(c, "softmax", "[1,1000]", ACCUMULATING, r -> r.backend().softmax(r.randn(1, 1000)));
    }

    private static void attention(List<OpCase> c) {
        add(c, "attention", "q [2,3,17,16] k/v lk 65, dv 8, no mask", ACCUMULATING,
                r -> r.backend().attention(r.randn(2, 3, 17, 16), r.randn(2, 3, 65, 16), r.randn(2, 3, 65, 8), null,
                        0.25f));
        add(c, "attention", "key padding mask [2,1,1,65]", ACCUMULATING,
                r -> r.backend().attention(r.randn(2, 3, 17, 16), r.randn(2, 3, 65, 16), r.randn(2, 3, 65, 16),
                        paddingMask(r, 2, 65, 40, 1), 0.25f));
        add(c, "attention", "mask [1,1,17,65]", ACCUMULATING,
                r -> r.backend().attention(r.randn(2, 3, 17, 16), r.randn(2, 3, 65, 16), r.randn(2, 3, 65, 16),
                        r.randn(1, 1, 17, 65), 0.25f));
        add(c, "attention", "full mask [2,3,17,65]", ACCUMULATING,
                r -> r.backend().attention(r.randn(2, 3, 17, 16), r.randn(2, 3, 65, 16), r.randn(2, 3, 65, 16),
                        r.randn(2, 3, 17, 65), 0.25f));
        add(c, "attention", "lq 1, lk 1, d 1", ACCUMULATING,
                r -> r.backend().attention(r.randn(1, 1, 1, 1), r.randn(1, 1, 1, 1), r.randn(1, 1, 1, 1), null, 1f));
        add(c, "attention", "q [1,1,63,64], lk 200 (longer than a tile)", ACCUMULATING,
                r -> r.backend().attention(r.randn(1, 1, 63, 64), r.randn(1, 1, 200, 64), r.randn(1, 1, 200, 64),
                        null, 0.125f));
        add(c, "attention", "cross-attention lq 65, lk 3, d 40, scale 2 (peaked)", ACCUMULATING,
                r -> r.backend().attention(r.randn(1, 2, 65, 40), r.randn(1, 2, 3, 40), r.randn(1, 2, 3, 40), null,
                        2f));
    }

    /** Additive mask {@code [batch, 1, 1, lk]}: 0 for the first {@code len + b*step} keys, -1e9 after. */
    private static Tensor paddingMask(RandomTensors r, int batch, int lk, int len, int step) {
        float[] m = new float[batch * lk];
        for (int b = 0; b < batch; b++) {
            for (int j = len + b * step; j < lk; j++) {
                m[b * lk + j] = -1e9f;
            }
        }
        return r.of(m, batch, 1, 1, lk);
    }

    // ---------------------------------------------------------------- element-wise

    private static void elementWise(List<OpCase> c) {
        for (UnaryOp op : UnaryOp.values()) {
            float lo = op == UnaryOp.SQRT ? 0 : op == UnaryOp.EXP ? -10 : -8;
            float hi = op == UnaryOp.SQRT ? 10 : op == UnaryOp.EXP ? 10 : 8;
            float param = op == UnaryOp.LEAKY_RELU ? 0.2f : 0f;
            add(c, "unary", op + " [3,1003] in [" + lo + ", " + hi + ")", TRANSCENDENTAL,
                    r -> r.backend().unary(op, r.uniform(lo, hi, 3, 1003), param));
            add(c, "unary", op + " [1]", TRANSCENDENTAL,
                    r -> r.backend().unary(op, r.uniform(Math.max(lo, -1), 1, 1), param));
        }
        add(c, "unary", "GELU [65] in the far tails [-30, 30)", TRANSCENDENTAL,
                r -> r.backend().unary(UnaryOp.GELU, r.uniform(-30, 30, 65), 0f));

        int[][][] shapes = {
            {{2, 3, 65}, {2, 3, 65}},
            {{2, 3, 65}, {65}},
            {{2, 1, 5}, {1, 4, 1}},
            {{17}, {3, 1, 1}},
            {{}, {3, 4}},
            {{4, 1}, {1}},
            {{2, 4, 3, 17}, {4, 1, 1}},
        };
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] s : shapes) {
                add(c, "binary", op + " " + dims(s[0]) + " and " + dims(s[1]), ARITHMETIC,
                        r -> r.backend().binary(op, r.randn(s[0]), r.awayFromZero(0.5f, 2f, s[1])));
            }
            add(c, "scalar", op + " [63,17] and 0.37", ARITHMETIC,
                    r -> r.backend().scalar(op, r.randn(63, 17), 0.37f));
            add(c, "scalar", op + " [1] and -3", ARITHMETIC, r -> r.backend().scalar(op, r.randn(1), -3f));
        }
    }

    // ---------------------------------------------------------------- reductions

    private static void reductions(List<OpCase> c) {
        for (int dim : new int[] {0, 1, 2, -1}) {
            for (boolean keep : new boolean[] {false, true}) {
                add(c, "sum", "[3,17,5] dim " + dim + (keep ? " keepDim" : ""), ACCUMULATING,
                        r -> r.backend().sum(r.randn(3, 17, 5), dim, keep));
                add(c, "mean", "[3,17,5] dim " + dim + (keep ? " keepDim" : ""), ACCUMULATING,
                        r -> r.backend().mean(r.randn(3, 17, 5), dim, keep));
            }
        }
        add(c, "sum", "[1000] dim 0 -> scalar", ACCUMULATING, r -> r.backend().sum(r.uniform(0, 1, 1000), 0, false));
        add(c, "mean", "[2,1,65] dim 1", ACCUMULATING, r -> r.backend().mean(r.randn(2, 1, 65), 1, false));

        add(c, "l2Normalize", "[4,65]", ACCUMULATING, r -> r.backend().l2Normalize(r.randn(4, 65), 1e-12f));
        add(c, "l2Normalize", "[3,512] with a zero row and a tiny row (eps clamps)", ACCUMULATING,
                r -> r.backend().l2Normalize(tinyRows(r), 1e-6f));
        add(c, "l2Normalize", "[5,1]", ACCUMULATING, r -> r.backend().l2Normalize(r.randn(5, 1), 1e-12f));
    }

    /** {@code [3,512]}: a normal row, an all-zero row and a row of norm well below 1e-6. */
    private static Tensor tinyRows(RandomTensors r) {
        float[] v = r.normalValues(3 * 512);
        for (int i = 0; i < 512; i++) {
            v[512 + i] = 0;
            v[1024 + i] *= 1e-9f;
        }
        return r.of(v, 3, 512);
    }

    // ---------------------------------------------------------------- data movement

    private static void dataMovement(List<OpCase> c) {
        add(c, "concat", "F32 [2,3,5] [2,4,5] [2,1,5] dim 1", EXACT,
                r -> r.backend().concat(List.of(r.randn(2, 3, 5), r.randn(2, 4, 5), r.randn(2, 1, 5)), 1));
        add(c, "concat", "F32 [1,17] [3,17] dim 0", EXACT,
                r -> r.backend().concat(List.of(r.randn(1, 17), r.randn(3, 17)), 0));
        add(c, "concat", "F32 [2,3,5] [2,3,63] dim -1", EXACT,
                r -> r.backend().concat(List.of(r.randn(2, 3, 5), r.randn(2, 3, 63)), -1));
        add(c, "concat", "F32 one part [4,4]", EXACT, r -> r.backend().concat(List.of(r.randn(4, 4)), 1));
        add(c, "concat", "I64 [2,3] [2,1] dim 1", EXACT,
                r -> r.backend().concat(List.of(r.longs(1000, 2, 3), r.longs(1000, 2, 1)), 1));

        add(c, "slice", "F32 [3,17,5] dim 1 [2,9)", EXACT, r -> r.backend().slice(r.randn(3, 17, 5), 1, 2, 9));
        add(c, "slice", "F32 [3,17,5] dim -1 [1,4)", EXACT, r -> r.backend().slice(r.randn(3, 17, 5), -1, 1, 4));
        add(c, "slice", "F32 [3,17,5] dim 0 [1,3)", EXACT, r -> r.backend().slice(r.randn(3, 17, 5), 0, 1, 3));
        add(c, "slice", "I64 [4,9] dim 1 [8,9)", EXACT, r -> r.backend().slice(r.longs(1000, 4, 9), 1, 8, 9));

        int[][] perms = {{0, 2, 1, 3}, {3, 2, 1, 0}, {0, 1, 3, 2}, {1, 0, 2, 3}, {0, 3, 1, 2}, {0, 1, 2, 3}};
        for (int[] p : perms) {
            add(c, "permute", "F32 [2,3,17,5] " + dims(p), EXACT, r -> r.backend().permute(r.randn(2, 3, 17, 5), p));
        }
        add(c, "permute", "F32 [17,65] [1,0]", EXACT, r -> r.backend().permute(r.randn(17, 65), 1, 0));
        add(c, "permute", "I64 [2,3,4] [2,0,1]", EXACT, r -> r.backend().permute(r.longs(1000, 2, 3, 4), 2, 0, 1));

        int[][] resize = {{7, 7, 13, 13}, {5, 4, 10, 8}, {13, 9, 7, 5}, {1, 1, 3, 4}, {5, 6, 5, 6}, {3, 17, 6, 65}};
        for (int[] s : resize) {
            add(c, "upsampleNearest", "[2,3," + s[0] + "," + s[1] + "] -> " + s[2] + "x" + s[3], EXACT,
                    r -> r.backend().upsampleNearest(r.randn(2, 3, s[0], s[1]), s[2], s[3]));
        }

        pad(c, new int[] {2, 3, 5, 7}, new int[] {1, 2}, 0f);
        pad(c, new int[] {2, 3, 5, 7}, new int[] {1, 1, 2, 0}, -1.5f);
        pad(c, new int[] {2, 3, 5, 7}, new int[] {-1, 2, 0, -2}, 3f);
        pad(c, new int[] {2, 3, 5}, new int[] {1, 0, 0, 1, 2, 2}, 0f);
        pad(c, new int[] {4, 17}, new int[] {-2, -1}, 0f);
        pad(c, new int[] {1, 63}, new int[] {0, 1}, 0f);

        for (DType dt : WEIGHT_TYPES) {
            add(c, "embedding", "I64 ids [2,5], " + dt + " table [50,17]", EXACT,
                    r -> r.backend().embedding(r.ids(DType.I64, 50, 2, 5), r.weight(dt, 50, 17)));
        }
        add(c, "embedding", "I32 ids [7], F32 table [3,65]", EXACT,
                r -> r.backend().embedding(r.ids(DType.I32, 3, 7), r.weight(DType.F32, 3, 65)));

        for (DType dt : new DType[] {DType.F16, DType.BF16}) {
            add(c, "cast", "F32 [3,65] -> " + dt, EXACT, r -> r.backend().cast(r.randn(3, 65), dt));
            add(c, "cast", dt + " [3,65] -> F32", EXACT, r -> r.backend().cast(r.weight(dt, 3, 65), DType.F32));
        }
        add(c, "cast", "I8 [5,17] -> F32 (dequantise)", EXACT,
                r -> r.backend().cast(r.weight(DType.I8, 5, 17), DType.F32));
    }

    private static void pad(List<OpCase> c, int[] x, int[] pads, float value) {
        add(c, "pad", "F32 " + dims(x) + " pads " + dims(pads) + " value " + value, EXACT,
                r -> r.backend().pad(r.randn(x), pads, value));
    }

    // ---------------------------------------------------------------- invalid input

    // ---------------------------------------------------------------- fixed-kernel 2x resampling (Dance Diffusion)

    /** diffusers' "cubic" kernel (Upsample1d doubles it). */
    private static final float[] CUBIC = {-0.01171875f, -0.03515625f, 0.11328125f, 0.43359375f, 0.43359375f,
            0.11328125f, -0.03515625f, -0.01171875f};

    private static Tensor cubic(RandomTensors r, float scale) {
        float[] k = CUBIC.clone();
        for (int i = 0; i < k.length; i++) {
            k[i] *= scale;
        }
        return r.backend().fromArray(k, Shape.of(k.length));
    }

    private static void resampling(List<OpCase> c) {
        // Lengths: the shortest that reflect padding allows (4 down, 3 up), odd, and longer than a vector.
        for (int[] x : new int[][] {{2, 5, 4}, {1, 3, 17}, {2, 4, 64}, {1, 2, 131}}) {
            add(c, "downsample1d", "cubic " + dims(x), ACCUMULATING, r -> r.backend().downsample1d(r.randn(x), cubic(r, 1f)));
        }
        for (int[] x : new int[][] {{2, 5, 3}, {1, 3, 17}, {2, 4, 64}, {1, 2, 131}}) {
            add(c, "upsample1d", "cubic x2 " + dims(x), ACCUMULATING, r -> r.backend().upsample1d(r.randn(x), cubic(r, 2f)));
        }
        // Other kernel sizes (diffusers' "linear" k4 and "lanczos3" k12 shapes), random taps.
        add(c, "downsample1d", "random k4 [2,3,33]", ACCUMULATING, r -> r.backend().downsample1d(r.randn(2, 3, 33), r.randn(4)));
        add(c, "downsample1d", "random k12 [1,2,40]", ACCUMULATING, r -> r.backend().downsample1d(r.randn(1, 2, 40), r.randn(12)));
        add(c, "upsample1d", "random k4 [2,3,33]", ACCUMULATING, r -> r.backend().upsample1d(r.randn(2, 3, 33), r.randn(4)));
        add(c, "upsample1d", "random k12 [1,2,40]", ACCUMULATING, r -> r.backend().upsample1d(r.randn(1, 2, 40), r.randn(12)));
    }

    /** Invocations every backend must refuse with IllegalArgumentException. */
    public static List<Reject> rejects() {
        List<Reject> c = new ArrayList<>();
        c.add(new Reject("matmul", "inner dims 4 vs 5",
                r -> r.backend().matmul(r.randn(3, 4), r.randn(5, 6), false, false, 1f, null, 0f, null)));
        c.add(new Reject("matmul", "batch dims [2] vs [3]",
                r -> r.backend().matmul(r.randn(2, 3, 4), r.randn(3, 4, 5), false, false, 1f, null, 0f, null)));
        c.add(new Reject("matmul", "bias of the wrong length",
                r -> r.backend().matmul(r.randn(3, 4), r.randn(4, 5), false, false, 1f, r.randn(4), 0f, null)));
        c.add(new Reject("linear", "in features 5 vs 4",
                r -> r.backend().linear(r.randn(2, 5), r.randn(3, 4), null)));
        c.add(new Reject("linear", "bias of the wrong length",
                r -> r.backend().linear(r.randn(2, 4), r.randn(3, 4), r.randn(4))));
        c.add(new Reject("conv2d", "3 input channels vs weight's 2",
                r -> r.backend().conv2d(r.randn(1, 3, 8, 8), r.randn(4, 2, 3, 3), null, 1, 1, 1)));
        c.add(new Reject("conv2d", "kernel larger than the input",
                r -> r.backend().conv2d(r.randn(1, 1, 2, 2), r.randn(1, 1, 3, 3), null, 1, 0, 1)));
        c.add(new Reject("conv2d", "stride 0",
                r -> r.backend().conv2d(r.randn(1, 1, 4, 4), r.randn(1, 1, 3, 3), null, 0, 0, 1)));
        c.add(new Reject("conv1d", "3 input channels vs weight's 2",
                r -> r.backend().conv1d(r.randn(1, 3, 8), r.randn(4, 2, 3), null, 1, 1, 1)));
        c.add(new Reject("convTranspose1d", "3 input channels vs weight's 2",
                r -> r.backend().convTranspose1d(r.randn(1, 3, 8), r.randn(2, 4, 3), null, 1, 0, 0, 1)));
        c.add(new Reject("groupNorm", "6 channels in 4 groups",
                r -> r.backend().groupNorm(r.randn(1, 6, 4), 4, null, null, 1e-5f, false)));
        c.add(new Reject("layerNorm", "gamma of the wrong length",
                r -> r.backend().layerNorm(r.randn(2, 8), r.randn(7), null, 1e-5f)));
        c.add(new Reject("attention", "q and k head dims differ",
                r -> r.backend().attention(r.randn(1, 2, 3, 8), r.randn(1, 2, 5, 4), r.randn(1, 2, 5, 8), null, 1f)));
        c.add(new Reject("attention", "mask lk 4 vs 5",
                r -> r.backend().attention(r.randn(1, 2, 3, 8), r.randn(1, 2, 5, 8), r.randn(1, 2, 5, 8),
                        r.randn(1, 1, 3, 4), 1f)));
        c.add(new Reject("binary", "[2,3] and [4] do not broadcast",
                r -> r.backend().binary(BinaryOp.ADD, r.randn(2, 3), r.randn(4))));
        c.add(new Reject("embedding", "id equal to the vocabulary size",
                r -> r.backend().embedding(r.backend().fromArray(new long[] {0, 50}, Shape.of(2)),
                        r.randn(50, 4))));
        c.add(new Reject("embedding", "negative id",
                r -> r.backend().embedding(r.backend().fromArray(new long[] {-1}, Shape.of(1)),
                        r.randn(50, 4))));
        c.add(new Reject("concat", "[2,3] and [3,3] along dim 1",
                r -> r.backend().concat(List.of(r.randn(2, 3), r.randn(3, 3)), 1)));
        c.add(new Reject("slice", "[0, 6) of a dim of 5", r -> r.backend().slice(r.randn(3, 5), 1, 0, 6)));
        c.add(new Reject("permute", "[0, 0] is not a permutation", r -> r.backend().permute(r.randn(3, 5), 0, 0)));
        c.add(new Reject("pad", "three pads for a [3,5] tensor",
                r -> r.backend().pad(r.randn(3, 5), new int[] {1, 1, 1}, 0f)));
        c.add(new Reject("downsample1d", "length 3 cannot be reflect-padded by 3",
                r -> r.backend().downsample1d(r.randn(1, 2, 3), cubic(r, 1f))));
        c.add(new Reject("upsample1d", "length 2 cannot be reflect-padded by 2",
                r -> r.backend().upsample1d(r.randn(1, 2, 2), cubic(r, 2f))));
        c.add(new Reject("downsample1d", "odd kernel length 3",
                r -> r.backend().downsample1d(r.randn(1, 2, 16), r.randn(3))));
        c.add(new Reject("upsample1d", "rank-2 x", r -> r.backend().upsample1d(r.randn(2, 16), cubic(r, 2f))));
        c.add(new Reject("swiglu", "odd last dim 5", r -> r.backend().swiglu(r.randn(3, 5))));
        c.add(new Reject("swiglu", "empty last dim", r -> r.backend().swiglu(r.randn(3, 0))));
        return c;
    }

    // ---------------------------------------------------------------- Stable Audio DiT: SwiGLU

    private static void gatedActivation(List<OpCase> c) {
        // odd halves (not multiples of a vector width), a row of one, the real DiT's 2 x 6144 (one row), a
        // rank-3 batch; gates up to |30| reach both tails of the SiLU
        for (int[] d : new int[][] {{1, 2}, {3, 34}, {2, 5, 130}, {1, 12288}, {4, 17, 66}}) {
            add(c, "swiglu", dims(d), TRANSCENDENTAL, r -> r.backend().swiglu(r.randn(d).mul(4f)));
        }
        add(c, "swiglu", "[2,64] with gates up to ~90", TRANSCENDENTAL, r -> r.backend().swiglu(r.randn(2, 64).mul(30f)));
    }

    // ---------------------------------------------------------------- Stable Audio: snake, RMS norm, rotary

    private static void audioActivations(List<OpCase> c) {
        for (int[] d : new int[][] {{1, 1, 1}, {2, 5, 37}, {1, 17, 65}, {1, 3, 1000}}) {
            add(c, "snake", dims(d), TRANSCENDENTAL, r -> r.backend().snake(r.randn(d), r.uniform(0.2f, 3f, d[1]),
                    r.uniform(0.1f, 2f, d[1])));
        }
        // large arguments: the range reduction of sin
        add(c, "snake", "[1,2,50] with |alpha x| up to ~100", TRANSCENDENTAL,
                r -> r.backend().snake(r.randn(1, 2, 50).mul(30f), r.uniform(1f, 3f, 2), r.uniform(0.5f, 1f, 2)));
        for (int[] d : new int[][] {{1, 1}, {3, 17}, {2, 5, 64}, {4, 768}}) {
            int last = d[d.length - 1];
            add(c, "rmsNorm", dims(d), ACCUMULATING, r -> r.backend().rmsNorm(r.randn(d), r.randn(last), 1e-6f));
        }
        // T5's layout: [batch, heads, length, d] with a partial rotation, a full one, and odd lengths
        for (int[] d : new int[][] {{1, 1, 1, 2, 2}, {2, 3, 17, 16, 8}, {1, 4, 65, 64, 32}, {2, 2, 5, 6, 6}}) {
            add(c, "rotary", Arrays.toString(Arrays.copyOf(d, 4)) + " r " + d[4], ARITHMETIC,
                    r -> r.backend().rotary(r.randn(d[0], d[1], d[2], d[3]), r.randn(d[2], d[4]), r.randn(d[2], d[4])));
        }
    }
}
