// Oobleck's Snake activation: y = x + invBeta[c] * sin(alpha[c] * x)^2 over x [rows = batch * channels,
// length], channel c = row % channels.
__kernel void snake(int channels, int length, int n, __global const float* x, __global const float* alpha,
                    __global const float* invBeta, __global float* out) {
    int i = get_global_id(0);
    if (i < n) {
        int c = (i / length) % channels;
        float v = x[i];
        float s = sin(alpha[c] * v);
        out[i] = v + invBeta[c] * (s * s);
    }
}
