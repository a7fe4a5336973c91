// GEMM problems shared by the SIMT kernels (gemm.cu) and the tensor-core kernels (mma.cu).
//
// Every problem is C[z][m][n] = sum_k A(z, m, k) * B(z, k, n) followed by its own epilogue; the
// tile kernels only ever call loadA / loadB (in range) and store. A is an F32 activation, B the
// weight operand, widened from its dtype as tiles are filled. Convolutions are implicit GEMMs:
// A gathers the input window on the fly, so no im2col buffer exists.
#pragma once
#include "euterpe.cuh"

namespace euterpe {

// Batched matmul / linear: out = alpha * op(a) @ op(b) + bias + beta * c.
// a: [batch, M, K] (or [batch, K, M] when transA); b: [batch?, K, N] (or [N, K] when transB).
struct MatmulProblem {
    const float* a;
    Weight b;
    const float* bias;
    const float* c;
    float* out;
    int M, N, K;
    int transA, transB;
    long long strideA, strideB; // elements between batch entries; strideB 0 shares b
    float alpha, beta;

    __device__ bool aKFast() const { return !transA; }
    __device__ bool bKFast() const { return transB; }
    __device__ float loadA(int z, int m, int k) const {
        return a[z * strideA + (transA ? static_cast<long long>(k) * M + m : static_cast<long long>(m) * K + k)];
    }
    __device__ float loadB(int z, int k, int n) const {
        return b(z * strideB + (transB ? static_cast<long long>(n) * K + k : static_cast<long long>(k) * N + n));
    }
    __device__ void store(int z, int m, int n, float acc) const {
        long long i = (static_cast<long long>(z) * M + m) * N + n;
        float r = alpha * acc;
        if (bias) r += bias[n];
        if (c) r += beta * c[i];
        out[i] = r;
    }
};

// conv2d as a GEMM over pixels: M = batch*oh*ow, N = outChannels, K = inChannels*kh*kw.
// x [batch, cin, h, w], weight [cout, cin, kh, kw] (row n of B^T), out [batch, cout, oh, ow].
struct Conv2dProblem {
    const float* x;
    Weight w;
    const float* bias;
    float* out;
    int cin, h, wd, cout, kh, kw, oh, ow;
    int sh, ph, dh, sw, pw, dw;

    __device__ bool aKFast() const { return false; }
    __device__ bool bKFast() const { return true; }
    __device__ float loadA(int, int m, int k) const {
        int ohw = oh * ow;
        int b = m / ohw;
        int yx = m - b * ohw;
        int y = yx / ow;
        int xo = yx - y * ow;
        int khw = kh * kw;
        int c = k / khw;
        int r = k - c * khw;
        int i = r / kw;
        int j = r - i * kw;
        int iy = y * sh - ph + i * dh;
        int ix = xo * sw - pw + j * dw;
        if (iy < 0 || iy >= h || ix < 0 || ix >= wd) return 0.f;
        return x[((static_cast<long long>(b) * cin + c) * h + iy) * wd + ix];
    }
    __device__ float loadB(int, int k, int n) const {
        return w(static_cast<long long>(n) * cin * kh * kw + k);
    }
    __device__ void store(int, int m, int n, float acc) const {
        int ohw = oh * ow;
        int b = m / ohw;
        out[(static_cast<long long>(b) * cout + n) * ohw + (m - b * ohw)] = acc + (bias ? bias[n] : 0.f);
    }
};

// conv_transpose1d in gather form: output t of channel o sums x[c, i] * w[c, o, j] over the
// (i, j) with i*stride - padding + j*dilation = t. M = batch*outLen, N = cout, K = cin*k.
// x [batch, cin, len], weight [cin, cout, k] (torch's layout), out [batch, cout, outLen].
struct ConvTranspose1dProblem {
    const float* x;
    Weight w;
    const float* bias;
    float* out;
    int cin, len, cout, k, outLen, stride, padding, dilation;

    __device__ bool aKFast() const { return false; }
    __device__ bool bKFast() const { return false; }
    __device__ float loadA(int, int m, int kk) const {
        int b = m / outLen;
        int t = m - b * outLen;
        int c = kk / k;
        int j = kk - c * k;
        int num = t + padding - j * dilation;
        if (num < 0 || num % stride != 0) return 0.f;
        int i = num / stride;
        if (i >= len) return 0.f;
        return x[(static_cast<long long>(b) * cin + c) * len + i];
    }
    __device__ float loadB(int, int kk, int n) const {
        int c = kk / k;
        int j = kk - c * k;
        return w((static_cast<long long>(c) * cout + n) * k + j);
    }
    __device__ void store(int, int m, int n, float acc) const {
        int b = m / outLen;
        out[(static_cast<long long>(b) * cout + n) * outLen + (m - b * outLen)] = acc + (bias ? bias[n] : 0.f);
    }
};

} // namespace euterpe

// Declares the three GEMM entry points, NAME_PREFIX{gemm,conv2d,conv_transpose1d}SUFFIX, with the
// launch signatures the host uses for every variant, each running TILE<Problem>. Grid: x over N
// tiles, y over M tiles, z over the batch.
#define EUTERPE_GEMM_ENTRY_POINTS(SUFFIX, TILE)                                                                     \
    extern "C" __global__ void gemm##SUFFIX(const float* a, const void* b, const float* bScales,                 \
                                            long long bPerRow, int bType, const float* bias, const float* c,     \
                                            float* out, int M, int N, int K, int transA, int transB,             \
                                            long long strideA, long long strideB, float alpha, float beta) {     \
        euterpe::MatmulProblem p{a, {b, bScales, bPerRow, bType}, bias, c, out, M, N, K, transA, transB,        \
                                 strideA, strideB, alpha, beta};                                                  \
        TILE(p, M, N, K);                                                                                         \
    }                                                                                                             \
    extern "C" __global__ void conv2d##SUFFIX(const float* x, const void* w, const float* wScales,               \
                                              long long wPerRow, int wType, const float* bias, float* out,        \
                                              int batch, int cin, int h, int wd, int cout, int kh, int kw,        \
                                              int oh, int ow, int sh, int ph, int dh, int sw, int pw, int dw) {   \
        euterpe::Conv2dProblem p{x, {w, wScales, wPerRow, wType}, bias, out, cin, h, wd, cout, kh, kw, oh, ow,   \
                                 sh, ph, dh, sw, pw, dw};                                                         \
        TILE(p, batch * oh * ow, cout, cin * kh * kw);                                                            \
    }                                                                                                             \
    extern "C" __global__ void conv_transpose1d##SUFFIX(const float* x, const void* w, const float* wScales,     \
                                                        long long wPerRow, int wType, const float* bias,          \
                                                        float* out, int batch, int cin, int len, int cout, int k, \
                                                        int outLen, int stride, int padding, int dilation) {      \
        euterpe::ConvTranspose1dProblem p{x, {w, wScales, wPerRow, wType}, bias, out, cin, len, cout, k, outLen, \
                                          stride, padding, dilation};                                             \
        TILE(p, batch * outLen, cout, cin * k);                                                                   \
    }
