// Exact-f32 GEMM tiles on the CUDA cores (every device): the default path, which matches the
// reference to f32 accumulation error whatever the weight dtype.
#include "gemm.cuh"

using namespace euterpe;

namespace euterpe::simt {

constexpr int BM = 64, BN = 64, BK = 16, THREADS = 256;

// One 64x64 output tile per block of 256 threads; each thread owns a 4x4 grid of outputs spaced
// 16 apart (rows ty + 16i, cols tx + 16j), so shared reads are conflict-free and stores coalesce.
template <class P>
__device__ void simt_tile(const P& p, int M, int N, int K) {
    __shared__ float As[BK][BM];
    __shared__ float Bs[BK][BN];
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN, z = blockIdx.z;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        // Fill order follows each operand's contiguous dim, so global loads coalesce.
        for (int e = tid; e < BM * BK; e += THREADS) {
            int mm = p.aKFast() ? e / BK : e % BM;
            int kk = p.aKFast() ? e % BK : e / BM;
            int m = m0 + mm, k = k0 + kk;
            As[kk][mm] = m < M && k < K ? p.loadA(z, m, k) : 0.f;
        }
        for (int e = tid; e < BN * BK; e += THREADS) {
            int nn = p.bKFast() ? e / BK : e % BN;
            int kk = p.bKFast() ? e % BK : e / BN;
            int n = n0 + nn, k = k0 + kk;
            Bs[kk][nn] = n < N && k < K ? p.loadB(z, k, n) : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                a[i] = As[kk][ty + 16 * i];
                b[i] = Bs[kk][tx + 16 * i];
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
            if (m < M && n < N) p.store(z, m, n, acc[i][j]);
        }
}

} // namespace euterpe::simt

EUTERPE_GEMM_ENTRY_POINTS(_f32, euterpe::simt::simt_tile)
