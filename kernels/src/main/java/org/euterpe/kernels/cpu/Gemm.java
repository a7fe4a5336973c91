package org.euterpe.kernels.cpu;

import java.util.Arrays;

import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * matmul and linear on the packed, blocked {@link GemmDriver}. The right operand (a weight) may
 * be F16, BF16 or I8; it is widened tile by tile while packing.
 */
final class Gemm {
    private Gemm() {
    }

    /** See {@link org.euterpe.tensor.Backend#matmul}. */
    static Tensor matmul(CpuBackendBase be, Tensor a, Tensor b, boolean transA, boolean transB, float alpha,
            Tensor bias, float beta, Tensor c) {
        if (a.rank() < 2 || b.rank() < 2) {
            throw new IllegalArgumentException("matmul needs rank >= 2 operands, got " + a.shape() + " and " + b.shape());
        }
        int ra = a.rank();
        int m = transA ? a.dim(-1) : a.dim(-2);
        int k = transA ? a.dim(-2) : a.dim(-1);
        int kb = transB ? b.dim(-1) : b.dim(-2);
        int n = transB ? b.dim(-2) : b.dim(-1);
        int[] batchDims = Arrays.copyOf(a.shape().dims(), ra - 2);
        boolean sharedB = b.rank() == 2;
        if (k != kb || !sharedB && !Arrays.equals(batchDims, Arrays.copyOf(b.shape().dims(), b.rank() - 2))) {
            throw new IllegalArgumentException("matmul shapes do not agree: " + a.shape() + (transA ? "^T" : "")
                    + " @ " + b.shape() + (transB ? "^T" : ""));
        }
        int[] outDims = Arrays.copyOf(batchDims, ra);
        outDims[ra - 2] = m;
        outDims[ra - 1] = n;
        Shape outShape = Shape.of(outDims);
        int batches = Math.toIntExact(a.shape().outer(ra - 2));

        Tensor out = be.newF32(outShape);
        float[] o = CpuBackendBase.heapArray(out);
        if (c != null) {
            if (!c.shape().equals(outShape)) {
                throw new IllegalArgumentException("matmul c " + c.shape() + " does not match the result " + outShape);
            }
            if (beta != 0f) {
                float[] cv = CpuBackendBase.floats(c);
                for (int i = 0; i < o.length; i++) {
                    o[i] = beta * cv[i];
                }
            }
        }
        float[] colBias = biasVector(bias, n, "matmul");

        // A rank-2 B shared by a non-transposed batch: one taller GEMM instead of many.
        if (sharedB && !transA && batches > 1) {
            m *= batches;
            batches = 1;
        }
        long mk = (long) m * k;
        PanelPacker pa = transA
                ? new PanelPacker.Strided(FloatSource.of(a), 0, mk, 1, m, alpha)
                : new PanelPacker.Strided(FloatSource.of(a), 0, mk, k, 1, alpha);
        long bBatch = sharedB ? 0 : (long) k * n;
        PanelPacker pb = transB
                ? new PanelPacker.Strided(FloatSource.of(b), 0, bBatch, k, 1)
                : new PanelPacker.Strided(FloatSource.of(b), 0, bBatch, 1, n);
        GemmDriver.gemm(batches, m, n, k, pa, pb,
                new GemmDriver.Output(o, 0, m * n, n, colBias, null));
        return out;
    }

    /** See {@link org.euterpe.tensor.Backend#linear}: {@code x [..., in] @ weight[out, in]^T + bias}. */
    static Tensor linear(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias) {
        if (weight.rank() != 2 || x.rank() < 1 || x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("linear: input " + x.shape() + " does not fit weight " + weight.shape()
                    + " ([out, in])");
        }
        int in = weight.dim(1);
        int outF = weight.dim(0);
        int rows = Math.toIntExact(x.shape().outer(x.rank() - 1));
        Tensor x2 = x.reshape(rows, in);
        Tensor y = matmul(be, x2, weight, false, true, 1f, bias, 0f, null);
        return y.reshape(x.shape().with(x.rank() - 1, outF).dims());
    }

    /** The bias as floats, checked to be {@code [n]}; null when absent. */
    static float[] biasVector(Tensor bias, int n, String op) {
        if (bias == null) {
            return null;
        }
        if (bias.rank() != 1 || bias.dim(0) != n) {
            throw new IllegalArgumentException(op + " bias " + bias.shape() + " should be [" + n + "]");
        }
        return CpuBackendBase.floats(bias);
    }
}
