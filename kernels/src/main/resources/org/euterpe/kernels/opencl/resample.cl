// Dance Diffusion's fixed-kernel 2x resampling (diffusers Downsample1d / Upsample1d): every channel
// row of x [rows, len] reflect-padded, then a stride-2 correlation (down) or transposed convolution
// (up) with the same k taps. One work item per output element; global size (outLen, rows).

inline int reflect_index(int i, int len) {
    return i < 0 ? -i : (i >= len ? 2 * (len - 1) - i : i);
}

// out[r, o] = sum_j kernel[j] * x[r, reflect(2o + j - pad)]
__kernel void downsample1d(int len, int k, int pad, int outLen, __global const float* x,
                           __global const float* taps, __global float* out) {
    int o = get_global_id(0);
    int r = get_global_id(1);
    if (o >= outLen) {
        return;
    }
    __global const float* row = x + (long) r * len;
    float acc = 0.0f;
    for (int j = 0; j < k; j++) {
        acc = fma(taps[j], row[reflect_index(2 * o + j - pad, len)], acc);
    }
    out[(long) r * outLen + o] = acc;
}

// out[r, n] = sum over taps j with n + k - 1 - j = 2i even of kernel[j] * xpad[i], where
// xpad[i] = x[r, reflect(i - pad)] (the transposed convolution's padding k - 1 cropped).
__kernel void upsample1d(int len, int k, int pad, int outLen, __global const float* x,
                         __global const float* taps, __global float* out) {
    int n = get_global_id(0);
    int r = get_global_id(1);
    if (n >= outLen) {
        return;
    }
    __global const float* row = x + (long) r * len;
    float acc = 0.0f;
    for (int j = (n + k - 1) & 1; j < k; j += 2) {
        int i = (n + k - 1 - j) / 2;
        acc = fma(taps[j], row[reflect_index(i - pad, len)], acc);
    }
    out[(long) r * outLen + n] = acc;
}
