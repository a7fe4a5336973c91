// Tensor-core GEMM tiles (sm_80+): mma.sync m16n8k16 with f16 or bf16 operands and f32
// accumulation. Both operands are rounded to the 16-bit type as tiles are filled, so activations
// lose precision (f16 also range): this path is opt-in on the host side. Compiled for compute_80.
#include "gemm.cuh"

using namespace euterpe;

namespace euterpe::mma {

constexpr int BM = 64, BN = 64, BK = 32, THREADS = 128, PAD = 8;

template <typename T> __device__ __forceinline__ T to16(float v);
template <> __device__ __forceinline__ __half to16<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 to16<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// d += a (16x16, row-major fragment) * b (16x8, column-major fragment).
template <typename T>
__device__ __forceinline__ void mma16816(float* d, const unsigned* a, const unsigned* b) {
#ifdef EUTERPE_EMULATED_MMA // the CPU emulator's stand-in (kernels/src/test/cuda); never set for nvcc
    EUTERPE_EMULATED_MMA(T, d, a, b);
#else
    if constexpr (__is_same(T, __half)) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
#endif
}

// Two adjacent 16-bit elements as one register (k-contiguous in shared memory, 4-byte aligned).
template <typename T>
__device__ __forceinline__ unsigned pair(const T* p) {
    return *reinterpret_cast<const unsigned*>(p);
}

// One 64x64 output tile per block of 4 warps; warp (wm, wn) owns a 32x32 quarter as 2x4 mma
// tiles of 16x8. Shared tiles hold A as [m][k] and B as [n][k], so every fragment register is
// one aligned 32-bit load (the PTX ISA's m16n8k16 fragment layouts).
template <typename T, class P>
__device__ void mma_tile(const P& p, int M, int N, int K) {
    __shared__ __align__(16) T As[BM][BK + PAD];
    __shared__ __align__(16) T Bs[BN][BK + PAD];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 1, wn = warp & 1, g = lane >> 2, t = lane & 3;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN, z = blockIdx.z;
    float acc[2][4][4] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        for (int e = tid; e < BM * BK; e += THREADS) {
            int mm = p.aKFast() ? e / BK : e % BM;
            int kk = p.aKFast() ? e % BK : e / BM;
            int m = m0 + mm, k = k0 + kk;
            As[mm][kk] = to16<T>(m < M && k < K ? p.loadA(z, m, k) : 0.f);
        }
        for (int e = tid; e < BN * BK; e += THREADS) {
            int nn = p.bKFast() ? e / BK : e % BN;
            int kk = p.bKFast() ? e % BK : e / BN;
            int n = n0 + nn, k = k0 + kk;
            Bs[nn][kk] = to16<T>(n < N && k < K ? p.loadB(z, k, n) : 0.f);
        }
        __syncthreads();
#pragma unroll
        for (int ks = 0; ks < BK; ks += 16) {
            unsigned af[2][4], bf[4][2];
#pragma unroll
            for (int mi = 0; mi < 2; mi++) {
                int r = wm * 32 + mi * 16 + g;
                af[mi][0] = pair(&As[r][ks + 2 * t]);
                af[mi][1] = pair(&As[r + 8][ks + 2 * t]);
                af[mi][2] = pair(&As[r][ks + 2 * t + 8]);
                af[mi][3] = pair(&As[r + 8][ks + 2 * t + 8]);
            }
#pragma unroll
            for (int ni = 0; ni < 4; ni++) {
                int c = wn * 32 + ni * 8 + g;
                bf[ni][0] = pair(&Bs[c][ks + 2 * t]);
                bf[ni][1] = pair(&Bs[c][ks + 2 * t + 8]);
            }
#pragma unroll
            for (int mi = 0; mi < 2; mi++)
#pragma unroll
                for (int ni = 0; ni < 4; ni++) mma16816<T>(acc[mi][ni], af[mi], bf[ni]);
        }
        __syncthreads();
    }
    // Accumulator fragment: registers 0,1 are row g, columns 2t and 2t+1; registers 2,3 row g+8.
#pragma unroll
    for (int mi = 0; mi < 2; mi++)
#pragma unroll
        for (int ni = 0; ni < 4; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                int m = m0 + wm * 32 + mi * 16 + g + (r >= 2 ? 8 : 0);
                int n = n0 + wn * 32 + ni * 8 + 2 * t + (r & 1);
                if (m < M && n < N) p.store(z, m, n, acc[mi][ni][r]);
            }
}

template <class P> __device__ void mma_tile_f16(const P& p, int M, int N, int K) { mma_tile<__half>(p, M, N, K); }
template <class P> __device__ void mma_tile_bf16(const P& p, int M, int N, int K) {
    mma_tile<__nv_bfloat16>(p, M, N, K);
}

} // namespace euterpe::mma

EUTERPE_GEMM_ENTRY_POINTS(_mma_f16, euterpe::mma::mma_tile_f16)
EUTERPE_GEMM_ENTRY_POINTS(_mma_bf16, euterpe::mma::mma_tile_bf16)
