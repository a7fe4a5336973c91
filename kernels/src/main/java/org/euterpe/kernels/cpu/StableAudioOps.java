package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Tensor;

/**
 * The Vector-API forms of the Stable Audio ops: the Snake activation ({@code x + invBeta[c] sin²(alpha[c] x)};
 * the vector {@code SIN} is the JDK's, an intrinsic where the platform has one), T5's RMS norm and the partial
 * rotary embedding. Rows are split across the worker threads.
 */
final class StableAudioOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int GRAIN = 1 << 14;

    private StableAudioOps() {
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

    /** SwiGLU: per row of 2n, {@code x[j] * silu(x[n + j])}, the SiLU as {@link VectorMath#silu}. */
    static Tensor swiglu(CpuBackendBase be, Tensor x) {
        int n = OpShapes.swiglu(x);
        HostFloats in = HostFloats.of(x);
        int rows = Math.toIntExact(x.numel() / (2L * n));
        int[] dims = x.shape().dims();
        dims[dims.length - 1] = n;
        Tensor out = be.newF32Empty(org.euterpe.tensor.Shape.of(dims));
        float[] o = CpuBackendBase.heapArray(out);
        Parallel.forRange(rows, Math.max(1, GRAIN / (2 * n)), (from, to) -> {
            for (int r = from; r < to; r++) {
                int xo = in.off() + r * 2 * n;
                int yo = r * n;
                for (int i = 0; i < n; i += S.length()) {
                    VectorMask<Float> m = S.indexInRange(i, n);
                    FloatVector gate = FloatVector.fromArray(S, in.a(), xo + n + i, m);
                    FloatVector.fromArray(S, in.a(), xo + i, m).mul(VectorMath.silu(gate)).intoArray(o, yo + i, m);
                }
            }
        });
        return out;
    }

    static Tensor rmsNorm(CpuBackendBase be, Tensor x, Tensor weight, float eps) {
        int d = OpShapes.rmsNorm(x, weight);
        HostFloats in = HostFloats.of(x);
        float[] w = CpuBackendBase.floats(weight);
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        int rows = Math.toIntExact(x.numel() / d);
        Parallel.forRange(rows, Math.max(1, GRAIN / d), (from, to) -> {
            for (int r = from; r < to; r++) {
                int xo = in.off() + r * d;
                FloatVector acc = FloatVector.zero(S);
                int i = 0;
                for (int bound = S.loopBound(d); i < bound; i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, in.a(), xo + i);
                    acc = v.fma(v, acc);
                }
                double sq = acc.reduceLanes(VectorOperators.ADD);
                for (; i < d; i++) {
                    sq += (double) in.a()[xo + i] * in.a()[xo + i];
                }
                float inv = (float) (1 / Math.sqrt((float) (sq / d) + eps));
                i = 0;
                for (int bound = S.loopBound(d); i < bound; i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, in.a(), xo + i).mul(inv);
                    FloatVector.fromArray(S, w, i).mul(v).intoArray(o, r * d + i);
                }
                for (; i < d; i++) {
                    o[r * d + i] = w[i] * (in.a()[xo + i] * inv);
                }
            }
        });
        return out;
    }

    static Tensor rotary(CpuBackendBase be, Tensor x, Tensor cos, Tensor sin) {
        int r = OpShapes.rotary(x, cos, sin);
        HostFloats in = HostFloats.of(x);
        float[] c = CpuBackendBase.floats(cos);
        float[] s = CpuBackendBase.floats(sin);
        int d = x.dim(3);
        int length = x.dim(2);
        int half = r / 2;
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        int rows = Math.toIntExact(x.numel() / d);
        Parallel.forRange(rows, Math.max(1, GRAIN / d), (from, to) -> {
            float[] a = in.a();
            for (int row = from; row < to; row++) {
                int xo = in.off() + row * d;
                int oo = row * d;
                int co = (row % length) * r;
                for (int j = 0; j < half; j += S.length()) {
                    VectorMask<Float> m = S.indexInRange(j, half);
                    FloatVector x1 = FloatVector.fromArray(S, a, xo + j, m);
                    FloatVector x2 = FloatVector.fromArray(S, a, xo + half + j, m);
                    FloatVector c1 = FloatVector.fromArray(S, c, co + j, m);
                    FloatVector s1 = FloatVector.fromArray(S, s, co + j, m);
                    FloatVector c2 = FloatVector.fromArray(S, c, co + half + j, m);
                    FloatVector s2 = FloatVector.fromArray(S, s, co + half + j, m);
                    x1.mul(c1).add(x2.neg().mul(s1)).intoArray(o, oo + j, m);
                    x2.mul(c2).add(x1.mul(s2)).intoArray(o, oo + half + j, m);
                }
                System.arraycopy(a, xo + r, o, oo + r, d - r);
            }
        });
        return out;
    }
}
