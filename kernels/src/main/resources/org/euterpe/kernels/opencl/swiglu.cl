// SwiGLU, the Stable Audio DiT's feed-forward activation: over rows of 2n, y[r, j] = x[r, j] * silu(x[r, n + j])
// (diffusers' SwiGLU: hidden, gate = chunk(2, -1); hidden * silu(gate)). One work item per output.
__kernel void swiglu(int n, int total, __global const float* x, __global float* out) {
    int i = get_global_id(0);
    if (i < total) {
        int r = i / n;
        int j = i - r * n;
        float a = x[(long) r * 2 * n + j];
        float g = x[(long) r * 2 * n + n + j];
        out[i] = a * (g / (1.0f + exp(-g)));
    }
}
