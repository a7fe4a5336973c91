// Convolutions. conv2d (and conv1d, as a height-1 conv2d) is an implicit GEMM per batch entry:
// out[o, p] = sum_k W[o, k] * X'[k, p] with k = (c, i, j) over the filter and p = (y, x) over
// the output; X' (the im2col matrix) is never materialised, its tile is gathered from x.

// Element (c, tap, p) of the im2col matrix of one batch entry xb [cin, h, w]; 0 in the padding.
inline float conv_input(__global const float* xb, int h, int w, int kw, int ow, int sh, int sw, int ph, int pw,
                        int dh, int dw, int c, int tap, int p) {
    int iy = (p / ow) * sh - ph + (tap / kw) * dh;
    int ix = (p % ow) * sw - pw + (tap % kw) * dw;
    return (iy >= 0 && iy < h && ix >= 0 && ix < w) ? xb[((long) c * h + iy) * w + ix] : 0.0f;
}

// x [batch, cin, h, w]; wt [cout, cin, kh, kw] (weight dtype); bias [cout]; out [batch, cout, oh, ow].
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void conv2d(int cin, int h, int w, int cout, int kh, int kw, int oh, int ow,
            int sh, int sw, int ph, int pw, int dh, int dw,
            __global const float* x, __global const uchar* wt, int wtype, __global const float* wscales,
            __global const float* bias, int hasBias, __global float* out) {
    __local float As[TILE][TM];
    __local float Bs[TILE][TM];
    float acc[WPT][WPT];
    int batch = get_group_id(2);
    int M = cout;
    int N = oh * ow;
    int taps = kh * kw;
    int K = cin * taps;
    __global const float* xb = x + (long) batch * cin * h * w;
#define CONV_A(m, k) load_w(wt, wtype, wscales, K, (m) * K + (k))
#define CONV_B(k, n) conv_input(xb, h, w, kw, ow, sh, sw, ph, pw, dh, dw, (k) / taps, (k) % taps, (n))
    GEMM_ACCUMULATE(M, N, K, 1, 0, CONV_A, CONV_B)
#undef CONV_A
#undef CONV_B
    for (int i = 0; i < WPT; i++) {
        int m = GEMM_ROW(i);
        for (int j = 0; j < WPT; j++) {
            int n = GEMM_COL(j);
            if (m < M && n < N) {
                out[((long) batch * M + m) * N + n] = acc[i][j] + (hasBias ? bias[m] : 0.0f);
            }
        }
    }
}

// Weight-stationary scatter turned into a gather: output position t of ConvTranspose1d takes
// input i and tap j where i * stride - padding + j * dilation == t.
// x [batch, cin, len]; wt [cin, cout, k] (weight dtype); bias [cout]; out [batch, cout, outLen].
__kernel void conv_transpose1d(int cin, int len, int cout, int k, int outLen, int stride, int padding,
                               int dilation, __global const float* x, __global const uchar* wt, int wtype,
                               __global const float* wscales, __global const float* bias, int hasBias,
                               __global float* out) {
    int t = get_global_id(0);
    int o = get_global_id(1);
    int b = get_global_id(2);
    if (t >= outLen) {
        return;
    }
    float acc = 0.0f;
    for (int j = 0; j < k; j++) {
        int num = t + padding - j * dilation;
        if (num < 0 || num % stride != 0) {
            continue;
        }
        int i = num / stride;
        if (i >= len) {
            continue;
        }
        for (int c = 0; c < cin; c++) {
            acc += x[((long) b * cin + c) * len + i] * load_w(wt, wtype, wscales, cout * k, (c * cout + o) * k + j);
        }
    }
    out[((long) b * cout + o) * outLen + t] = acc + (hasBias ? bias[o] : 0.0f);
}
