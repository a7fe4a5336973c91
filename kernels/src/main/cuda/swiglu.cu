// SwiGLU, the Stable Audio DiT's feed-forward activation: over rows of 2n, y[r, j] = x[r, j] * silu(x[r, n + j])
// (diffusers' SwiGLU: hidden, gate = chunk(2, -1); hidden * silu(gate)). expf (not __expf): the accurate form.
#include "euterpe.cuh"

extern "C" __global__ void swiglu_f32(const float* x, float* y, long long total, int n) {
    EUTERPE_FOR_EACH(i, total) {
        long long r = i / n;
        long long j = i - r * n;
        float a = x[r * 2 * n + j];
        float g = x[r * 2 * n + n + j];
        y[i] = a * (g / (1.f + expf(-g)));
    }
}
