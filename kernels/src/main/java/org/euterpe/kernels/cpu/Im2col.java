package org.euterpe.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The right GEMM operand of a convolution, packed straight from the input image: the implicit
 * im2col matrix, whose row {@code n} is an output position {@code (oy, ox)} and whose depth
 * index is {@code (c, ky, kx)}. Only the block being packed is ever built, never the whole
 * matrix, so a large activation is not copied {@code kh * kw} times.
 *
 * <p>Packing runs one vector of output positions at a time, for every depth step: where the
 * vector's positions lie in one output row (stride 1) its inputs are one contiguous run, read by
 * one masked load (the mask zeroes the padding columns); otherwise (narrow images, strides) by
 * one masked gather. Per element this is a small fraction of the multiply-adds it feeds even for
 * the 2-wide images at the bottom of a U-Net, where copying row segments one by one cost as much
 * as the GEMM itself.
 *
 * @param x      the input {@code [batch, channels, h, w]}, from element {@code xOff}
 * @param stride {@code {strideH, strideW}}, likewise {@code pad} and {@code dil}
 */
record Im2col(float[] x, int xOff, int channels, int h, int w, int kh, int kw, int outW, int[] stride, int[] pad,
        int[] dil) implements PanelPacker {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** {@inheritDoc} Panels must be whole vectors wide ({@code r % L == 0}), as the GEMM's right operand is. */
    @Override
    public void pack(int batch, int i0, int count, int k0, int kc, int r, float[] dst) {
        if (r % L != 0) {
            throw new IllegalArgumentException("im2col panels must be whole vectors wide, got " + r);
        }
        int image = xOff + batch * channels * h * w;
        int taps = kh * kw;
        int[] index = null;
        long[] inside = null;
        int panels = (count + r - 1) / r;
        for (int p = 0; p < panels * r; p += L) {
            int lanes = Math.max(0, Math.min(L, count - p));
            int out = p / r * r * kc + p % r;
            int n0 = i0 + p;
            if (stride[1] == 1 && n0 % outW + lanes <= outW) {
                packRun(image, n0 / outW * stride[0] - pad[0], n0 % outW - pad[1], lanes, k0, kc, r, dst, out);
            } else {
                if (index == null) {
                    index = new int[taps * L];
                    inside = new long[taps];
                }
                tapTables(n0, lanes, index, inside);
                packGather(image, index, inside, k0, kc, r, dst, out);
            }
        }
    }

    /**
     * One vector of positions in one output row: input row {@code iy0 + ky * dilH}, columns from
     * {@code ix0 + kx * dilW}, {@code lanes} of them; written to {@code dst[out + kk * r]} for
     * each depth step {@code kk < kc} from {@code k0}.
     */
    private void packRun(int image, int iy0, int ix0, int lanes, int k0, int kc, int r, float[] dst, int out) {
        int kx = k0 % kw;
        int ky = (k0 / kw) % kh;
        int plane = image + k0 / (kw * kh) * h * w;
        for (int kk = 0; kk < kc; kk++) {
            int iy = iy0 + ky * dil[0];
            int ix = ix0 + kx * dil[1];
            int at = plane + iy * w + ix;
            int to = out + kk * r;
            if (iy < 0 || iy >= h) {
                FloatVector.zero(S).intoArray(dst, to);
            } else if (lanes == L && ix >= 0 && ix + L <= w) {
                FloatVector.fromArray(S, x, at).intoArray(dst, to); // all inside: no mask to build
            } else if (at >= 0 && at + L <= x.length) {
                FloatVector.fromArray(S, x, at, VectorMask.fromLong(S, lanesInside(ix, lanes))).intoArray(dst, to);
            } else {
                // A run at either end of the array: a masked load there takes the Vector API's
                // per-lane bounds check, which runs as slow scalar Java; rare, so copy by hand.
                long inside = lanesInside(ix, lanes);
                for (int q = 0; q < L; q++) {
                    dst[to + q] = (inside >>> q & 1) != 0 ? x[at + q] : 0f;
                }
            }
            if (++kx == kw) {
                kx = 0;
                if (++ky == kh) {
                    ky = 0;
                    plane += h * w;
                }
            }
        }
    }

    /**
     * The lanes {@code q < lanes} whose column {@code ix + q} is inside the image, as mask bits
     * (mask construction from bits stays vectorised where {@code S.indexInRange} may not).
     */
    private long lanesInside(int ix, int lanes) {
        int from = Math.max(0, -ix);
        int to = Math.max(from, Math.min(lanes, w - ix));
        return (1L << to) - (1L << from);
    }

    /**
     * For the {@code lanes} positions from {@code n0} and each tap {@code t = ky * kw + kx}: the
     * element of a channel plane each lane reads ({@code index[t * L + q]}) and which lanes fall
     * inside the image ({@code inside[t]}, bit q). The tables are the same for every channel.
     * Lanes outside read element 0 (masked off, but the gather still checks their bounds).
     */
    private void tapTables(int n0, int lanes, int[] index, long[] inside) {
        java.util.Arrays.fill(index, 0);
        java.util.Arrays.fill(inside, 0);
        for (int q = 0; q < lanes; q++) {
            int iy0 = (n0 + q) / outW * stride[0] - pad[0];
            int ix0 = (n0 + q) % outW * stride[1] - pad[1];
            for (int ky = 0; ky < kh; ky++) {
                int iy = iy0 + ky * dil[0];
                for (int kx = 0; kx < kw; kx++) {
                    int ix = ix0 + kx * dil[1];
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                        int t = ky * kw + kx;
                        index[t * L + q] = iy * w + ix;
                        inside[t] |= 1L << q;
                    }
                }
            }
        }
    }

    /** One vector of positions anywhere, by one masked gather per depth step from the {@link #tapTables}. */
    private void packGather(int image, int[] index, long[] inside, int k0, int kc, int r, float[] dst, int out) {
        int taps = kh * kw;
        int t = k0 % taps;
        int plane = image + k0 / taps * h * w;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector.fromArray(S, x, plane, index, t * L, VectorMask.fromLong(S, inside[t]))
                    .intoArray(dst, out + kk * r);
            if (++t == taps) {
                t = 0;
                plane += h * w;
            }
        }
    }
}
