// A CPU emulation of the CUDA features the Euterpe kernels use, so their logic (indexing,
// tiling, reductions, the online softmax, the mma fragment layouts) can be checked on a machine
// without a GPU: one OS thread per CUDA thread; blocks run one after another, so function-scope
// __shared__ = static is right; __syncthreads is a block barrier; warp shuffles go through a
// per-warp barrier and exchange slots; mma.sync is computed from the PTX ISA's fragment layouts.
// It says nothing about timing, memory-model corner cases or the real compiler's code.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <barrier>
#include <thread>
#include <vector>
#include <memory>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local dim3 threadIdx;
inline dim3 blockIdx, blockDim, gridDim;
inline std::unique_ptr<std::barrier<>> g_block_barrier;
inline std::vector<std::unique_ptr<std::barrier<>>> g_warp_barriers;
inline float g_slots[1024];
inline void __syncthreads() { g_block_barrier->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { g_warp_barriers[threadIdx.x / 32]->arrive_and_wait(); }
inline float shfl_exchange(float v, int src) {
    g_slots[threadIdx.x] = v;
    __syncwarp();
    float r = g_slots[(threadIdx.x & ~31u) + src];
    __syncwarp();
    return r;
}
inline float __shfl_xor_sync(unsigned, float v, int o) { return shfl_exchange(v, (threadIdx.x & 31) ^ o); }
inline float __shfl_sync(unsigned, float v, int src) { return shfl_exchange(v, src); }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
using std::max;
using std::min;
struct __half { uint16_t x; };
struct __nv_bfloat16 { uint16_t x; };
inline float __half2float(__half h) { return (float)(_Float16&)h; }
inline __half __float2half_rn(float f) { _Float16 v = (_Float16)f; __half h; std::memcpy(&h, &v, 2); return h; }
inline float __bfloat162float(__nv_bfloat16 b) { uint32_t u = (uint32_t)b.x << 16; float f; std::memcpy(&f, &u, 4); return f; }
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    uint32_t x; std::memcpy(&x, &f, 4);
    __nv_bfloat16 b;
    if ((x & 0x7fffffffu) > 0x7f800000u) { b.x = (uint16_t)((x >> 16) | 0x40); return b; }
    b.x = (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16); return b;
}
template <typename F>
void launch(dim3 grid, dim3 block, F kernel) {
    gridDim = grid; blockDim = block;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = {x, y, z};
                g_block_barrier = std::make_unique<std::barrier<>>(block.x);
                g_warp_barriers.clear();
                for (unsigned w = 0; w < (block.x + 31) / 32; w++) g_warp_barriers.push_back(std::make_unique<std::barrier<>>(32));
                std::vector<std::thread> ts;
                for (unsigned t = 0; t < block.x; t++) ts.emplace_back([&, t] { threadIdx = {t, 0, 0}; kernel(); });
                for (auto& t : ts) t.join();
            }
}

// m16n8k16 mma.sync emulated from the PTX ISA fragment layouts (groupID g = lane/4, t = lane%4):
// A a_i (i = 0..7, two per register, low half first): row g (+8 for i in 2,3,6,7), col 2t + (i&1) (+8 for i >= 4)
// B b_i (i = 0..3): row (k) 2t + (i&1) (+8 for i >= 2), col (n) g
// C c_i (i = 0..3): row g (+8 for i >= 2), col 2t + (i&1)
inline float g_A[32][16][16], g_B[32][16][8];
template <typename T> float half_to_float(uint16_t bits) { T h; h.x = bits; if constexpr (__is_same(T, __half)) return __half2float(h); else return __bfloat162float(h); }
template <typename T>
void emu_mma(float* d, const unsigned* a, const unsigned* b) {
    int lane = threadIdx.x & 31, warp = threadIdx.x / 32, g = lane / 4, t = lane % 4;
    for (int i = 0; i < 8; i++) {
        uint16_t bits = (uint16_t)(a[i / 2] >> (16 * (i & 1)));
        int row = g + ((i == 2 || i == 3 || i == 6 || i == 7) ? 8 : 0), col = 2 * t + (i & 1) + (i >= 4 ? 8 : 0);
        g_A[warp][row][col] = half_to_float<T>(bits);
    }
    for (int i = 0; i < 4; i++) {
        uint16_t bits = (uint16_t)(b[i / 2] >> (16 * (i & 1)));
        g_B[warp][2 * t + (i & 1) + (i >= 2 ? 8 : 0)][g] = half_to_float<T>(bits);
    }
    __syncwarp();
    for (int i = 0; i < 4; i++) {
        int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
        float acc = d[i];
        for (int k = 0; k < 16; k++) acc += g_A[warp][row][k] * g_B[warp][k][col];
        d[i] = acc;
    }
    __syncwarp();
}
#define EUTERPE_EMULATED_MMA(T, d, a, b) emu_mma<T>(d, a, b)
