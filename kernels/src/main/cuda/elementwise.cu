// Element-wise kernels: unary functions, broadcasting binary ops, tensor-scalar ops, dtype casts
// and fills. One thread per element, grid-stride.
#include "euterpe.cuh"

using namespace euterpe;

// The functions of org.euterpe.tensor.UnaryOp, by ordinal, in float with the accurate libm
// functions (no fast-math intrinsics).
__device__ __forceinline__ float unary_apply(int op, float x, float param) {
    switch (op) {
    case 0: return x / (1.f + expf(-x)); // SILU
    case 1: { // exact GELU; erfc for negative x keeps the far tail precise
        float z = x * 0.70710678118654752f;
        return x >= 0.f ? 0.5f * x * (1.f + erff(z)) : 0.5f * x * erfcf(-z);
    }
    case 2: return x < 0.f ? 0.f : x; // RELU; NaN stays NaN
    case 3: return x >= 0.f ? x : param * x; // LEAKY_RELU
    case 4: return tanhf(x);
    case 5: return expf(x);
    case 6: return 1.f / (1.f + expf(-x)); // SIGMOID
    case 7: return -x;
    default: return sqrtf(x);
    }
}

extern "C" __global__ void unary_f32(const float* x, float* y, long long n, int op, float param) {
    EUTERPE_FOR_EACH(i, n) y[i] = unary_apply(op, x[i], param);
}

// y = a op b, numpy broadcasting: s.dims is the output shape, s.a / s.b the operand strides
// (0 along broadcast dims).
extern "C" __global__ void binary_f32(const float* a, const float* b, float* y, long long n, int op, Strides s) {
    EUTERPE_FOR_EACH(i, n) {
        long long oa, ob;
        s.offsets(i, oa, ob);
        y[i] = binary_apply(op, a[oa], b[ob]);
    }
}

extern "C" __global__ void scalar_f32(const float* x, float* y, long long n, int op, float s) {
    EUTERPE_FOR_EACH(i, n) y[i] = binary_apply(op, x[i], s);
}

// Converts between floating types (and dequantises I8): y[i] = (outType) x[i].
extern "C" __global__ void cast_float(const void* x, const float* scales, long long perRow, int inType, void* y,
                                      int outType, long long n) {
    Weight w{x, scales, perRow, inType};
    EUTERPE_FOR_EACH(i, n) store_float(y, i, outType, w(i));
}

// Sets n elements of esz bytes (1, 2, 4 or 8) to the low esz bytes of `bits`.
extern "C" __global__ void fill_bits(void* y, long long n, int esz, unsigned long long bits) {
    EUTERPE_FOR_EACH(i, n) {
        switch (esz) {
        case 8: static_cast<unsigned long long*>(y)[i] = bits; break;
        case 4: static_cast<unsigned int*>(y)[i] = static_cast<unsigned int>(bits); break;
        case 2: static_cast<unsigned short*>(y)[i] = static_cast<unsigned short>(bits); break;
        default: static_cast<unsigned char*>(y)[i] = static_cast<unsigned char>(bits); break;
        }
    }
}
