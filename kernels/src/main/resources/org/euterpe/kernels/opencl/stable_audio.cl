// Stable Audio's ops beside snake.cl: T5's RMS norm and the partial rotary embedding.

// out = weight * x / sqrt(mean(x^2) + eps) over rows of d; one work-item per row.
__kernel void rms_norm(int d, int rows, float eps, __global const float* x, __global const float* weight,
                       __global float* out) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    const __global float* xr = x + (long) r * d;
    float sq = 0.0f;
    for (int i = 0; i < d; i++) {
        sq += xr[i] * xr[i];
    }
    float inv = 1.0f / sqrt(sq / d + eps);
    __global float* orow = out + (long) r * d;
    for (int i = 0; i < d; i++) {
        orow[i] = weight[i] * (xr[i] * inv);
    }
}

// x [rows = batch*heads*length, d]: the first r channels rotated by the row's position (row % length).
__kernel void rotary(int d, int r, int length, int n, __global const float* x, __global const float* cs,
                     __global const float* sn, __global float* out) {
    int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    int j = i % d;
    int l = (i / d) % length;
    int h = r / 2; // ("half" is a type in OpenCL C)
    float v = x[i];
    if (j < h) {
        out[i] = v * cs[l * r + j] + -x[i + h] * sn[l * r + j];
    } else if (j < r) {
        out[i] = v * cs[l * r + j] + x[i - h] * sn[l * r + j];
    } else {
        out[i] = v;
    }
}
