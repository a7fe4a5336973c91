// Fused scaled-dot-product attention with an online softmax: softmax(scale * q k^T + mask) v
// without ever holding a row of scores longer than one 32-key chunk, let alone the Lq x Lk matrix.
#include "euterpe.cuh"

using namespace euterpe;

constexpr int WARPS = 4;       // query rows per block
constexpr int MAX_HEAD = 256;  // largest d and dv (the host checks)
constexpr int PER_LANE = MAX_HEAD / 32;

// q [bh, lq, d], k [bh, lk, d], v [bh, lk, dv], out [bh, lq, dv]; grid (ceil(lq / 4), batch*heads).
// Each warp owns one query row. Per chunk of 32 keys, lane j scores key j, the warp agrees on the
// running max, rescales its partial sums, then every lane accumulates its output dims
// (lane, lane+32, ...) over the chunk's keys, with each probability broadcast by shuffle.
// mask: additive, read at b*mb + h*mh + i*mq + j*mk (broadcast dims have stride 0); null for none.
extern "C" __global__ void attention_f32(const float* q, const float* k, const float* v, const float* mask,
                                         float* out, int heads, int lq, int lk, int d, int dv, float scale,
                                         long long mb, long long mh, long long mq, long long mk) {
    __shared__ float qs[WARPS][MAX_HEAD];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int bh = blockIdx.y;
    const int i = blockIdx.x * WARPS + warp;
    if (i >= lq) return; // whole warps only; the block never synchronises
    const float* qrow = q + (static_cast<long long>(bh) * lq + i) * d;
    for (int t = lane; t < d; t += 32) qs[warp][t] = qrow[t];
    __syncwarp();
    const float* kb = k + static_cast<long long>(bh) * lk * d;
    const float* vb = v + static_cast<long long>(bh) * lk * dv;
    const float* mrow = mask ? mask + (bh / heads) * mb + (bh % heads) * mh + i * mq : nullptr;

    float runMax = -INFINITY, denom = 0.f, acc[PER_LANE] = {};
    for (int j0 = 0; j0 < lk; j0 += 32) {
        const int j = j0 + lane;
        float s = -INFINITY;
        if (j < lk) {
            const float* krow = kb + static_cast<long long>(j) * d;
            float dot = 0.f;
            for (int t = 0; t < d; t++) dot = fmaf(qs[warp][t], krow[t], dot);
            s = scale * dot + (mrow ? mrow[j * mk] : 0.f);
        }
        const float newMax = fmaxf(runMax, warp_max(s));
        // -inf scores (masked or padding lanes) weigh 0; while every score so far is -inf the
        // running sums are 0 and need no rescaling.
        const float p = s == -INFINITY ? 0.f : expf(s - newMax);
        const float rescale = runMax == -INFINITY ? 0.f : expf(runMax - newMax);
        denom = denom * rescale + warp_sum(p);
#pragma unroll
        for (int u = 0; u < PER_LANE; u++) acc[u] *= rescale;
        const int count = min(32, lk - j0);
        for (int jj = 0; jj < count; jj++) {
            const float pj = __shfl_sync(0xffffffffu, p, jj);
            const float* vrow = vb + static_cast<long long>(j0 + jj) * dv;
#pragma unroll
            for (int u = 0; u < PER_LANE; u++) {
                int t = lane + 32 * u;
                if (t < dv) acc[u] = fmaf(pj, vrow[t], acc[u]);
            }
        }
        runMax = newMax;
    }
    float* orow = out + (static_cast<long long>(bh) * lq + i) * dv;
#pragma unroll
    for (int u = 0; u < PER_LANE; u++) {
        int t = lane + 32 * u;
        if (t < dv) orow[t] = acc[u] / denom;
    }
}
