package org.euterpe.kernels.cpu;

import org.euterpe.tensor.OpShapes;
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
        OpShapes.Gemm g = OpShapes.matmul(a, b, transA, transB, bias, c);
        int m = g.m();
        int n = g.n();
        int k = g.k();
        boolean sharedB = g.sharedB();
        int batches = g.batches();

        // Without a C term every element is written by the GEMM's first depth slice (overwrite).
        boolean accumulate = c != null && beta != 0f;
        Tensor out = accumulate ? be.newF32(g.out()) : be.newF32Empty(g.out());
        float[] o = CpuBackendBase.heapArray(out);
        if (accumulate) {
            float[] cv = CpuBackendBase.floats(c);
            for (int i = 0; i < o.length; i++) {
                o[i] = beta * cv[i];
            }
        }
        float[] colBias = biasVector(bias);

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
                new GemmDriver.Output(o, 0, m * n, n, colBias, null, !accumulate));
        return out;
    }

    /** See {@link org.euterpe.tensor.Backend#linear}: {@code x [..., in] @ weight[out, in]^T + bias}. */
    static Tensor linear(CpuBackendBase be, Tensor x, Tensor weight, Tensor bias) {
        Shape outShape = OpShapes.linear(x, weight, bias);
        int in = weight.dim(1);
        int rows = Math.toIntExact(x.shape().outer(x.rank() - 1));
        Tensor x2 = x.reshape(rows, in);
        Tensor y = matmul(be, x2, weight, false, true, 1f, bias, 0f, null);
        return y.reshapeResult(outShape.dims());
    }

    /** The bias (checked by {@link OpShapes}) as floats; null when absent. */
    static float[] biasVector(Tensor bias) {
        return bias == null ? null : CpuBackendBase.floats(bias);
    }
}
