// Stable Audio's ops beside snake.cu: T5's RMS norm and the partial rotary embedding.
#include "euterpe.cuh"

using namespace euterpe;

// y = weight * x / sqrt(mean(x^2) + eps) over rows of d: one warp per row, lanes striding the row.
extern "C" __global__ void rms_norm_f32(const float* x, const float* weight, float* y, long long rows, int d,
                                        float eps) {
    long long warps = ((long long) gridDim.x * blockDim.x) / 32;
    long long first = ((long long) blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    for (long long r = first; r < rows; r += warps) {
        const float* xr = x + r * d;
        float sq = 0.0f;
        for (int i = lane; i < d; i += 32) {
            sq += xr[i] * xr[i];
        }
        sq = warp_sum(sq);
        float inv = 1.0f / sqrtf(sq / d + eps);
        for (int i = lane; i < d; i += 32) {
            y[r * d + i] = weight[i] * (xr[i] * inv);
        }
    }
}

// x [rows = batch*heads*length, d]: the first r channels rotated by the row's position (row % length).
extern "C" __global__ void rotary_f32(const float* x, const float* cs, const float* sn, float* y, long long n, int d,
                                      int r, int length) {
    EUTERPE_FOR_EACH(i, n) {
        int j = (int) (i % d);
        int l = (int) ((i / d) % length);
        int half = r / 2;
        float v = x[i];
        if (j < half) {
            y[i] = v * cs[l * r + j] + -x[i + half] * sn[l * r + j];
        } else if (j < r) {
            y[i] = v * cs[l * r + j] + x[i - half] * sn[l * r + j];
        } else {
            y[i] = v;
        }
    }
}
