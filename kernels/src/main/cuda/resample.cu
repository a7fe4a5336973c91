// Dance Diffusion's fixed-kernel 2x resampling (diffusers Downsample1d / Upsample1d): every channel
// row of x [rows, len] reflect-padded, then a stride-2 correlation (down) or transposed convolution
// (up) with the same k taps for every row. One thread per output element (grid-stride).
#include "euterpe.cuh"

namespace euterpe {
__device__ __forceinline__ int reflect_index(int i, int len) {
    return i < 0 ? -i : (i >= len ? 2 * (len - 1) - i : i);
}
}  // namespace euterpe

// out[r, o] = sum_j taps[j] * x[r, reflect(2o + j - pad)]
extern "C" __global__ void downsample1d(const float* x, const float* taps, float* out, long long rows, int len,
                                        int k, int pad, int outLen) {
    using namespace euterpe;
    EUTERPE_FOR_EACH(i, rows * outLen) {
        long long r = i / outLen;
        int o = static_cast<int>(i - r * outLen);
        const float* row = x + r * len;
        float acc = 0.0f;
        for (int j = 0; j < k; j++) acc = fmaf(taps[j], row[reflect_index(2 * o + j - pad, len)], acc);
        out[i] = acc;
    }
}

// out[r, n] = sum over taps j with n + k - 1 - j = 2m even of taps[j] * x[r, reflect(m - pad)]
// (the transposed convolution's padding k - 1 cropped; pad is the reflect padding).
extern "C" __global__ void upsample1d(const float* x, const float* taps, float* out, long long rows, int len, int k,
                                      int pad, int outLen) {
    using namespace euterpe;
    EUTERPE_FOR_EACH(i, rows * outLen) {
        long long r = i / outLen;
        int n = static_cast<int>(i - r * outLen);
        const float* row = x + r * len;
        float acc = 0.0f;
        for (int j = (n + k - 1) & 1; j < k; j += 2) {
            acc = fmaf(taps[j], row[reflect_index((n + k - 1 - j) / 2 - pad, len)], acc);
        }
        out[i] = acc;
    }
}
