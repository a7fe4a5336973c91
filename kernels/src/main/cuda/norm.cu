// Row-wise normalisations and reductions. A block (256 threads) owns one row or one group; the
// statistics are two-pass (mean, then mean squared deviation), as the reference computes them.
#include "euterpe.cuh"

using namespace euterpe;

// Mean and biased variance of x[0, n) by the whole block.
__device__ __forceinline__ void mean_var(const float* x, long long n, float* scratch, float& mean, float& var) {
    float s = 0.f;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) s += x[i];
    mean = block_sum(s, scratch) / static_cast<float>(n);
    float q = 0.f;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) {
        float dv = x[i] - mean;
        q += dv * dv;
    }
    var = block_sum(q, scratch) / static_cast<float>(n);
}

// GroupNorm of x [batch, channels, spatial...]: block (b, g) normalises the contiguous run of its
// group's channels, then applies the per-channel affine and, when asked, SiLU.
extern "C" __global__ void group_norm_f32(const float* x, const float* gamma, const float* beta, float* y,
                                          int groups, int channelsPerGroup, long long spatial, float eps, int silu) {
    __shared__ float scratch[32];
    long long n = channelsPerGroup * spatial;
    long long base = static_cast<long long>(blockIdx.x) * n;
    float mean, var;
    mean_var(x + base, n, scratch, mean, var);
    float inv = rsqrtf(var + eps);
    int channel0 = (blockIdx.x % groups) * channelsPerGroup;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) {
        int ch = channel0 + static_cast<int>(i / spatial);
        float v = (x[base + i] - mean) * inv;
        v = v * (gamma ? gamma[ch] : 1.f) + (beta ? beta[ch] : 0.f);
        y[base + i] = silu ? v / (1.f + expf(-v)) : v;
    }
}

// LayerNorm over rows of d: block r normalises row r.
extern "C" __global__ void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* y, int d,
                                          float eps) {
    __shared__ float scratch[32];
    long long base = static_cast<long long>(blockIdx.x) * d;
    float mean, var;
    mean_var(x + base, d, scratch, mean, var);
    float inv = rsqrtf(var + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        float v = (x[base + i] - mean) * inv;
        y[base + i] = v * (gamma ? gamma[i] : 1.f) + (beta ? beta[i] : 0.f);
    }
}

// Max-subtracted softmax of each row of d.
extern "C" __global__ void softmax_f32(const float* x, float* y, int d) {
    __shared__ float scratch[32];
    long long base = static_cast<long long>(blockIdx.x) * d;
    float m = -INFINITY;
    for (int i = threadIdx.x; i < d; i += blockDim.x) m = fmaxf(m, x[base + i]);
    m = block_max(m, scratch);
    float s = 0.f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) s += expf(x[base + i] - m);
    s = block_sum(s, scratch);
    for (int i = threadIdx.x; i < d; i += blockDim.x) y[base + i] = expf(x[base + i] - m) / s;
}

// x / max(||x||_2, eps) for each row of d.
extern "C" __global__ void l2_normalize_f32(const float* x, float* y, int d, float eps) {
    __shared__ float scratch[32];
    long long base = static_cast<long long>(blockIdx.x) * d;
    float q = 0.f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) q += x[base + i] * x[base + i];
    float denom = fmaxf(sqrtf(block_sum(q, scratch)), eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) y[base + i] = x[base + i] / denom;
}

// Sum (scale 1) or mean (scale 1/n) over the middle dim of [outer, n, inner]: one thread per
// output, accumulating in double like the reference (reductions here are small and off the hot path).
extern "C" __global__ void reduce_dim_f32(const float* x, float* y, long long outer, int n, long long inner,
                                          double scale) {
    EUTERPE_FOR_EACH(i, outer * inner) {
        long long o = i / inner;
        long long in = i - o * inner;
        const float* p = x + o * n * inner + in;
        double acc = 0;
        for (int j = 0; j < n; j++) acc += p[j * inner];
        y[i] = static_cast<float>(acc * scale);
    }
}
