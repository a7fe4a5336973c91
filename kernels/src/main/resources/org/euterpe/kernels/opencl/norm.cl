// Normalisations and row-wise ops: one work-group per row (or per (batch, group)), with
// work-group reductions from common.cl. Statistics are two-pass, as the reference.

// GroupNorm over x viewed as [batch * groups, n] with n = (channels / groups) * spatial; the
// channel of element e of group g is g * cpg + e / spatial. LayerNorm is the case groups = 1,
// spatial = 1 over [rows, d]. gamma/beta [channels] (flags say whether present).
__kernel void group_norm(int groups, int cpg, int spatial, float eps, int silu,
                         __global const float* x, __global const float* gamma, int hasGamma,
                         __global const float* beta, int hasBeta, __global float* out, __local float* scratch) {
    int row = get_group_id(0);
    int g = row % groups;
    int n = cpg * spatial;
    int lid = get_local_id(0);
    int ls = get_local_size(0);
    __global const float* xr = x + (long) row * n;
    __global float* yr = out + (long) row * n;
    float s = 0.0f;
    for (int e = lid; e < n; e += ls) {
        s += xr[e];
    }
    float mean = wg_sum(s, scratch) / n;
    float sq = 0.0f;
    for (int e = lid; e < n; e += ls) {
        float dv = xr[e] - mean;
        sq += dv * dv;
    }
    float inv = rsqrt(wg_sum(sq, scratch) / n + eps);
    for (int e = lid; e < n; e += ls) {
        int ch = g * cpg + e / spatial;
        float y = (xr[e] - mean) * inv;
        y = y * (hasGamma ? gamma[ch] : 1.0f) + (hasBeta ? beta[ch] : 0.0f);
        yr[e] = silu ? y / (1.0f + exp(-y)) : y;
    }
}

// Softmax of each row of x [rows, d], max-subtracted.
__kernel void softmax_rows(int d, __global const float* x, __global float* out, __local float* scratch) {
    int lid = get_local_id(0);
    int ls = get_local_size(0);
    __global const float* xr = x + (long) get_group_id(0) * d;
    __global float* yr = out + (long) get_group_id(0) * d;
    float m = -INFINITY;
    for (int e = lid; e < d; e += ls) {
        m = fmax(m, xr[e]);
    }
    m = wg_max(m, scratch);
    float s = 0.0f;
    for (int e = lid; e < d; e += ls) {
        s += exp(xr[e] - m);
    }
    s = wg_sum(s, scratch);
    for (int e = lid; e < d; e += ls) {
        yr[e] = exp(xr[e] - m) / s;
    }
}

// x / max(||x||, eps) for each row of x [rows, d].
__kernel void l2_normalize_rows(int d, float eps, __global const float* x, __global float* out,
                                __local float* scratch) {
    int lid = get_local_id(0);
    int ls = get_local_size(0);
    __global const float* xr = x + (long) get_group_id(0) * d;
    __global float* yr = out + (long) get_group_id(0) * d;
    float sq = 0.0f;
    for (int e = lid; e < d; e += ls) {
        sq += xr[e] * xr[e];
    }
    float denom = fmax(sqrt(wg_sum(sq, scratch)), eps);
    for (int e = lid; e < d; e += ls) {
        yr[e] = xr[e] / denom;
    }
}

// Sum (or mean) along the middle dim of x [outer, n, inner]; one work-item per output, with
// compensated (Kahan) summation so long reductions stay within the reference's tolerance.
__kernel void reduce_dim(int outer, int n, int inner, int mean, __global const float* x, __global float* out) {
    int idx = get_global_id(0);
    if (idx >= outer * inner) {
        return;
    }
    int o = idx / inner;
    int i = idx % inner;
    __global const float* p = x + (long) o * n * inner + i;
    float s = 0.0f;
    float comp = 0.0f;
    for (int j = 0; j < n; j++) {
        float y = p[(long) j * inner] - comp;
        float t = s + y;
        comp = (t - s) - y;
        s = t;
    }
    out[idx] = mean ? s / n : s;
}
