package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.VectorMath.S;

import jdk.incubator.vector.FloatVector;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Dance Diffusion's fixed-kernel 2x resampling ({@link org.euterpe.tensor.Backend#downsample1d},
 * {@link org.euterpe.tensor.Backend#upsample1d}), one channel row at a time. Each row is reflect-padded
 * into a scratch row; the stride 2 is then taken apart into its two phases, so every tap is one
 * contiguous vector FMA:
 * <ul>
 *   <li>down: with {@code ev[i] = xp[2i]} and {@code od[i] = xp[2i + 1]},
 *       {@code out[o] = sum_r kernel[2r] ev[o + r] + kernel[2r + 1] od[o + r]};</li>
 *   <li>up: even outputs {@code out[2m] = sum_r kernel[2r + 1] xp[m + p - r]}, odd outputs
 *       {@code out[2m + 1] = sum_r kernel[2r] xp[m + p + 1 - r]} ({@code p = k/2 - 1}); every index is
 *       inside the padded row, so there are no bounds tests.</li>
 * </ul>
 * Rows are independent and split over threads; a row's arithmetic does not depend on the split.
 */
final class Resample1d {
    private static final int L = S.length();
    /** Rows per parallel task at the least: a row is a few thousand FMAs at the deep levels. */
    private static final int MIN_ROWS = 4;

    private Resample1d() {
    }

    static Tensor down(CpuBackendBase backend, Tensor x, Tensor kernel) {
        OpShapes.Resample1d g = OpShapes.downsample1d(x, kernel);
        float[] kv = CpuBackendBase.floats(kernel);
        HostFloats in = HostFloats.of(x);
        Tensor out = backend.newF32Empty(Shape.of(x.dim(0), x.dim(1), g.outLength()));
        float[] o = CpuBackendBase.heapArray(out);
        int oOff = CpuBackendBase.heapOffset(out);
        int len = g.length();
        int pad = g.pad();
        int outLen = g.outLength();
        int half = (len + 2 * pad + 1) / 2;
        int taps = g.k() / 2;
        Parallel.forRange(g.rows(), MIN_ROWS, (r0, r1) -> {
            float[] ev = new float[half + L];
            float[] od = new float[half + L];
            for (int r = r0; r < r1; r++) {
                int base = in.off() + r * len;
                for (int i = 0; i < len + 2 * pad; i++) {
                    float v = in.a()[base + reflect(i - pad, len)];
                    if ((i & 1) == 0) {
                        ev[i >> 1] = v;
                    } else {
                        od[i >> 1] = v;
                    }
                }
                int dst = oOff + r * outLen;
                int t = 0;
                for (; t <= outLen - L; t += L) {
                    FloatVector acc = FloatVector.zero(S);
                    for (int j = 0; j < taps; j++) {
                        acc = FloatVector.fromArray(S, ev, t + j).fma(FloatVector.broadcast(S, kv[2 * j]), acc);
                        acc = FloatVector.fromArray(S, od, t + j).fma(FloatVector.broadcast(S, kv[2 * j + 1]), acc);
                    }
                    acc.intoArray(o, dst + t);
                }
                for (; t < outLen; t++) {
                    float acc = 0f;
                    for (int j = 0; j < taps; j++) {
                        acc = Math.fma(ev[t + j], kv[2 * j], acc);
                        acc = Math.fma(od[t + j], kv[2 * j + 1], acc);
                    }
                    o[dst + t] = acc;
                }
            }
        });
        return out;
    }

    static Tensor up(CpuBackendBase backend, Tensor x, Tensor kernel) {
        OpShapes.Resample1d g = OpShapes.upsample1d(x, kernel);
        float[] kv = CpuBackendBase.floats(kernel);
        HostFloats in = HostFloats.of(x);
        Tensor out = backend.newF32Empty(Shape.of(x.dim(0), x.dim(1), g.outLength()));
        float[] o = CpuBackendBase.heapArray(out);
        int oOff = CpuBackendBase.heapOffset(out);
        int len = g.length();
        int q = g.pad();
        int p = g.k() / 2 - 1;
        int taps = g.k() / 2;
        int outLen = g.outLength();
        int half = outLen / 2;
        Parallel.forRange(g.rows(), MIN_ROWS, (r0, r1) -> {
            float[] xp = new float[len + 2 * q + L];
            float[] even = new float[half];
            float[] odd = new float[half];
            for (int r = r0; r < r1; r++) {
                int base = in.off() + r * len;
                for (int i = 0; i < len + 2 * q; i++) {
                    xp[i] = in.a()[base + reflect(i - q, len)];
                }
                int m = 0;
                for (; m <= half - L; m += L) {
                    FloatVector e = FloatVector.zero(S);
                    FloatVector d = FloatVector.zero(S);
                    for (int j = 0; j < taps; j++) {
                        e = FloatVector.fromArray(S, xp, m + p - j).fma(FloatVector.broadcast(S, kv[2 * j + 1]), e);
                        d = FloatVector.fromArray(S, xp, m + p + 1 - j).fma(FloatVector.broadcast(S, kv[2 * j]), d);
                    }
                    e.intoArray(even, m);
                    d.intoArray(odd, m);
                }
                for (; m < half; m++) {
                    float e = 0f;
                    float d = 0f;
                    for (int j = 0; j < taps; j++) {
                        e = Math.fma(xp[m + p - j], kv[2 * j + 1], e);
                        d = Math.fma(xp[m + p + 1 - j], kv[2 * j], d);
                    }
                    even[m] = e;
                    odd[m] = d;
                }
                int dst = oOff + r * outLen;
                for (int i = 0; i < half; i++) {
                    o[dst + 2 * i] = even[i];
                    o[dst + 2 * i + 1] = odd[i];
                }
            }
        });
        return out;
    }

    /** torch's reflect padding (pads are below the length). */
    private static int reflect(int i, int len) {
        return i < 0 ? -i : i >= len ? 2 * (len - 1) - i : i;
    }
}
