// Shared device helpers for the Euterpe CUDA kernels.
//
// Conventions: tensors are contiguous row-major; element counts and flat indices are 64-bit;
// activations are float. Weight operands arrive as raw bytes plus a dtype code (the ordinal of
// org.euterpe.tensor.DType for the floating/quantised types) and are widened on load.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>

namespace euterpe {

// Dtype codes, equal to DType.ordinal() on the Java side.
enum : int { DT_F32 = 0, DT_F16 = 1, DT_BF16 = 2, DT_I8 = 3, DT_I32 = 4, DT_I64 = 5 };

// A weight operand: element i of a [dim0, ...] tensor; I8 stands for q * scales[i / perRow].
struct Weight {
    const void* data;
    const float* scales;
    long long perRow;
    int dtype;

    __device__ __forceinline__ float operator()(long long i) const {
        switch (dtype) {
        case DT_F16: return __half2float(static_cast<const __half*>(data)[i]);
        case DT_BF16: return __bfloat162float(static_cast<const __nv_bfloat16*>(data)[i]);
        case DT_I8: return static_cast<float>(static_cast<const signed char*>(data)[i]) * scales[i / perRow];
        default: return static_cast<const float*>(data)[i];
        }
    }
};

// Rounds a float into element i of a tensor of type dtype (F32, F16 or BF16), nearest-even.
__device__ __forceinline__ void store_float(void* dst, long long i, int dtype, float v) {
    switch (dtype) {
    case DT_F16: static_cast<__half*>(dst)[i] = __float2half_rn(v); break;
    case DT_BF16: static_cast<__nv_bfloat16*>(dst)[i] = __float2bfloat16_rn(v); break;
    default: static_cast<float*>(dst)[i] = v; break;
    }
}

constexpr int MAX_RANK = 8;

// An n-d index space with two stride sets (in elements): enough for broadcasting (a, b),
// strided copies (src, dst) and permutes. Passed by value; the host fills it as 25 longs.
struct Strides {
    long long rank;
    long long dims[MAX_RANK];
    long long a[MAX_RANK];
    long long b[MAX_RANK];

    // Offsets of linear index i (row-major over dims) under the two stride sets.
    __device__ __forceinline__ void offsets(long long i, long long& oa, long long& ob) const {
        oa = 0;
        ob = 0;
        for (int d = static_cast<int>(rank) - 1; d >= 0; d--) {
            long long q = i / dims[d];
            long long idx = i - q * dims[d];
            oa += idx * a[d];
            ob += idx * b[d];
            i = q;
        }
    }
};

// The same functions as org.euterpe.tensor.BinaryOp, by ordinal.
__device__ __forceinline__ float binary_apply(int op, float a, float b) {
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    default: return a / b;
    }
}

// Grid-stride loop over [0, n).
#define EUTERPE_FOR_EACH(i, n) \
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < (n); \
         i += static_cast<long long>(gridDim.x) * blockDim.x)

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `scratch` holds 32 floats; the call synchronises, so it may be reused right after.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? scratch[lane] : 0.f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

} // namespace euterpe
