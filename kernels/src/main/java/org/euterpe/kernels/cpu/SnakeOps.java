package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Tensor;

/**
 * The Vector-API Snake activation ({@code x + invBeta[c] sin²(alpha[c] x)}), one (batch, channel) row per
 * task chunk. The vector {@code SIN} is the JDK's (an intrinsic where the platform has one).
 */
final class SnakeOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int GRAIN = 1 << 14;

    private SnakeOps() {
    }

    static Tensor snake(CpuBackendBase be, Tensor x, Tensor alpha, Tensor invBeta) {
        OpShapes.snake(x, alpha, invBeta);
        HostFloats in = HostFloats.of(x);
        float[] a = CpuBackendBase.floats(alpha);
        float[] ib = CpuBackendBase.floats(invBeta);
        int channels = x.dim(1);
        int length = x.dim(2);
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        int rows = x.dim(0) * channels;
        if (length == 0 || rows == 0) {
            return out;
        }
        Parallel.forRange(rows, Math.max(1, GRAIN / length), (from, to) -> {
            for (int r = from; r < to; r++) {
                row(in.a(), in.off() + r * length, o, r * length, length, a[r % channels], ib[r % channels]);
            }
        });
        return out;
    }

    private static void row(float[] x, int xo, float[] y, int yo, int n, float alpha, float invBeta) {
        int i = 0;
        int bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector s = v.mul(alpha).lanewise(VectorOperators.SIN);
            v.add(s.mul(s).mul(invBeta)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, xo + i, m);
            FloatVector s = v.mul(alpha).lanewise(VectorOperators.SIN);
            v.add(s.mul(s).mul(invBeta)).intoArray(y, yo + i, m);
        }
    }
}
