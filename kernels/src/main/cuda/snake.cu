// Oobleck's Snake activation: y = x + invBeta[c] * sin(alpha[c] * x)^2 over x [batch * channels rows,
// length], channel c = row % channels. sinf (not __sinf): the accurate form, as the reference's float sin.
#include "euterpe.cuh"

extern "C" __global__ void snake_f32(const float* x, const float* alpha, const float* invBeta, float* y,
                                     long long n, int channels, long long length) {
    EUTERPE_FOR_EACH(i, n) {
        int c = (int) ((i / length) % channels);
        float v = x[i];
        float s = sinf(alpha[c] * v);
        y[i] = v + invBeta[c] * (s * s);
    }
}
