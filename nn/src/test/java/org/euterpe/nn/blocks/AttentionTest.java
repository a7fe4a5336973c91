package org.euterpe.nn.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.euterpe.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real cross-attention (context of another length and width than the queries, several heads),
 * which the AudioLDM goldens never exercise, against a host evaluation of the definition:
 * {@code out = to_out(concat_h softmax(q_h k_h^T / sqrt(d)) v_h)}.
 */
class AttentionTest {
    static final int B = 2;
    static final int LQ = 3;
    static final int LK = 5;
    static final int DIM = 8;
    static final int CROSS = 6;
    static final int HEADS = 2;
    static final int D = DIM / HEADS;

    @TempDir
    Path tmp;

    private final Random random = new Random(42);

    private float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian() * 0.5f;
        }
        return a;
    }

    @Test
    void crossAttentionMatchesDefinition() throws IOException {
        float[] wq = rand(DIM * DIM);
        float[] wk = rand(DIM * CROSS);
        float[] wv = rand(DIM * CROSS);
        float[] wo = rand(DIM * DIM);
        float[] bo = rand(DIM);
        float[] x = rand(B * LQ * DIM);
        float[] ctx = rand(B * LK * CROSS);
        Path file = tmp.resolve("attn.safetensors");
        new SafetensorsWriter()
                .add("to_q.weight", Shape.of(DIM, DIM), wq)
                .add("to_k.weight", Shape.of(DIM, CROSS), wk)
                .add("to_v.weight", Shape.of(DIM, CROSS), wv)
                .add("to_out.0.weight", Shape.of(DIM, DIM), wo)
                .add("to_out.0.bias", Shape.of(DIM), bo)
                .write(file);

        Backend backend = Backends.scalar();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Weights w = Weights.of(backend, f, "", "test");
            Attention attn = Attention.load(w, DIM, CROSS, HEADS, D);
            w.checkAllUsed();
            Tensor out = attn.forward(backend.fromArray(x, Shape.of(B, LQ, DIM)),
                    backend.fromArray(ctx, Shape.of(B, LK, CROSS)));
            assertArrayEquals(new int[] {B, LQ, DIM}, out.shape().dims());
            double e = ConformanceGolden.relError(out.toFloatArray(), reference(x, ctx, wq, wk, wv, wo, bo));
            System.out.printf("  cross-attention vs definition: e=%.3e%n", e);
            assertTrue(e < 1e-5, "e=" + e);
        }
    }

    /** {@code y[r] = sum_c w[r, c] x[c]} over rows of {@code x} of width {@code in}. */
    private static double[] linear(float[] x, int rows, int in, float[] w, int out, float[] bias) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int c = 0; c < in; c++) {
                    s += (double) w[o * in + c] * x[r * in + c];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    private static float[] reference(float[] x, float[] ctx, float[] wq, float[] wk, float[] wv, float[] wo,
            float[] bo) {
        double[] q = linear(x, B * LQ, DIM, wq, DIM, null);
        double[] k = linear(ctx, B * LK, CROSS, wk, DIM, null);
        double[] v = linear(ctx, B * LK, CROSS, wv, DIM, null);
        float[] merged = new float[B * LQ * DIM];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < HEADS; h++) {
                for (int i = 0; i < LQ; i++) {
                    double[] p = new double[LK];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < LK; j++) {
                        double s = 0;
                        for (int t = 0; t < D; t++) {
                            s += q[(b * LQ + i) * DIM + h * D + t] * k[(b * LK + j) * DIM + h * D + t];
                        }
                        p[j] = s / Math.sqrt(D);
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < LK; j++) {
                        p[j] = Math.exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int t = 0; t < D; t++) {
                        double o = 0;
                        for (int j = 0; j < LK; j++) {
                            o += p[j] / sum * v[(b * LK + j) * DIM + h * D + t];
                        }
                        merged[(b * LQ + i) * DIM + h * D + t] = (float) o;
                    }
                }
            }
        }
        double[] y = linear(merged, B * LQ, DIM, wo, DIM, bo);
        float[] out = new float[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = (float) y[i];
        }
        return out;
    }
}
