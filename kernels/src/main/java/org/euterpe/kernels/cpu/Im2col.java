package org.euterpe.kernels.cpu;

import java.util.Arrays;

/**
 * The right GEMM operand of a convolution, packed straight from the input image: the implicit
 * im2col matrix, whose row {@code n} is an output position {@code (oy, ox)} and whose depth
 * index is {@code (c, ky, kx)}. Only the block being packed is ever built, never the whole
 * matrix, so a large activation is not copied {@code kh * kw} times.
 *
 * @param x      the input {@code [batch, channels, h, w]}, from element {@code xOff}
 * @param stride {@code {strideH, strideW}}, likewise {@code pad} and {@code dil}
 */
record Im2col(float[] x, int xOff, int channels, int h, int w, int kh, int kw, int outW, int[] stride, int[] pad,
        int[] dil) implements PanelPacker {

    @Override
    public void pack(int batch, int i0, int count, int k0, int kc, int r, float[] dst) {
        int image = xOff + batch * channels * h * w;
        int sh = stride[0], sw = stride[1];
        for (int p = 0; p < count; p += r) {
            int rows = Math.min(r, count - p);
            int oy0 = (i0 + p) / outW;
            int ox0 = (i0 + p) % outW;
            // Depth index k0 + kk decoded incrementally as (c, ky, kx).
            int kx = k0 % kw;
            int ky = (k0 / kw) % kh;
            int c = k0 / (kw * kh);
            for (int kk = 0; kk < kc; kk++) {
                int plane = image + c * h * w;
                int dy = ky * dil[0] - pad[0];
                int dx = kx * dil[1] - pad[1];
                int out = p * kc + kk * r;
                int oy = oy0;
                int ox = ox0;
                // Segments of the panel that lie in one output row: one input row each.
                for (int t = 0; t < rows; ) {
                    int seg = Math.min(rows - t, outW - ox);
                    int iy = oy * sh + dy;
                    if (iy < 0 || iy >= h) {
                        Arrays.fill(dst, out + t, out + t + seg, 0f);
                    } else {
                        copyRow(plane + iy * w, ox * sw + dx, sw, seg, dst, out + t);
                    }
                    t += seg;
                    ox = 0;
                    oy++;
                }
                if (++kx == kw) {
                    kx = 0;
                    if (++ky == kh) {
                        ky = 0;
                        c++;
                    }
                }
            }
        }
        PanelPacker.zeroTail(count, kc, r, dst);
    }

    /** {@code dst[at + q] = x[row + ix0 + q * sw]} for {@code q < n}, zero where the column is outside the image. */
    private void copyRow(int row, int ix0, int sw, int n, float[] dst, int at) {
        // Columns in range: 0 <= ix0 + q * sw < w.
        int lo = Math.min(n, ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw);
        int hi = Math.max(lo, Math.min(n, ix0 >= w ? 0 : (w - ix0 + sw - 1) / sw));
        Arrays.fill(dst, at, at + lo, 0f);
        if (sw == 1 && hi > lo) {
            System.arraycopy(x, row + ix0 + lo, dst, at + lo, hi - lo);
        } else {
            for (int q = lo; q < hi; q++) {
                dst[at + q] = x[row + ix0 + q * sw];
            }
        }
        Arrays.fill(dst, at + hi, at + n, 0f);
    }
}
