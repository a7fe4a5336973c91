// Tiled GEMM with local memory and register blocking, shared by matmul/linear and the
// implicit-GEMM convolution. TILE x TILE work-items compute a TM x TM block of the result,
// WPT x WPT outputs each; TILE and WPT are chosen per device at build time.

#define TM (TILE * WPT)

// Accumulates acc[WPT][WPT] += A[m, k] * B[k, n] over k for this work-group's block.
// LOAD_A(m, k) and LOAD_B(k, n) read operand elements (only called inside the bounds);
// A_K_FAST / B_K_FAST say which index is contiguous in memory, so tile loads coalesce.
// As and Bs are __local float[TILE][TM] declared by the kernel (OpenCL wants them at kernel scope).
#define GEMM_ACCUMULATE(M, N, K, A_K_FAST, B_K_FAST, LOAD_A, LOAD_B)                         \
    {                                                                                      \
        int tx = get_local_id(0);                                                          \
        int ty = get_local_id(1);                                                          \
        int lid = ty * TILE + tx;                                                          \
        int m0 = get_group_id(1) * TM;                                                     \
        int n0 = get_group_id(0) * TM;                                                     \
        for (int i = 0; i < WPT; i++)                                                      \
            for (int j = 0; j < WPT; j++)                                                  \
                acc[i][j] = 0.0f;                                                          \
        for (int k0 = 0; k0 < (K); k0 += TILE) {                                           \
            for (int l = lid; l < TM * TILE; l += TILE * TILE) {                           \
                int kk = (A_K_FAST) ? l % TILE : l / TM;                                   \
                int mm = (A_K_FAST) ? l / TILE : l % TM;                                   \
                int gm = m0 + mm, gk = k0 + kk;                                            \
                As[kk][mm] = (gm < (M) && gk < (K)) ? LOAD_A(gm, gk) : 0.0f;               \
                kk = (B_K_FAST) ? l % TILE : l / TM;                                       \
                int nn = (B_K_FAST) ? l / TILE : l % TM;                                   \
                int gn = n0 + nn;                                                          \
                gk = k0 + kk;                                                              \
                Bs[kk][nn] = (gn < (N) && gk < (K)) ? LOAD_B(gk, gn) : 0.0f;               \
            }                                                                              \
            barrier(CLK_LOCAL_MEM_FENCE);                                                  \
            for (int kk = 0; kk < TILE; kk++) {                                            \
                float a[WPT], b[WPT];                                                      \
                for (int i = 0; i < WPT; i++)                                              \
                    a[i] = As[kk][ty + i * TILE];                                          \
                for (int j = 0; j < WPT; j++)                                              \
                    b[j] = Bs[kk][tx + j * TILE];                                          \
                for (int i = 0; i < WPT; i++)                                              \
                    for (int j = 0; j < WPT; j++)                                          \
                        acc[i][j] += a[i] * b[j];                                          \
            }                                                                              \
            barrier(CLK_LOCAL_MEM_FENCE);                                                  \
        }                                                                                  \
    }

// Row m and column n of output (i, j) of this work-item.
#define GEMM_ROW(i) (get_group_id(1) * TM + get_local_id(1) + (i) * TILE)
#define GEMM_COL(j) (get_group_id(0) * TM + get_local_id(0) + (j) * TILE)

// out[batch] = alpha * op(A[batch]) @ op(B[batch]) + bias + beta * C[batch].
// A: F32 [M, K] ([K, M] when transA); B: weight dtype [K, N] ([N, K] when transB), strideB 0
// when shared by the batch; bias [N]; C and out [M, N]. The batch is get_group_id(2).
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void gemm(int M, int N, int K,
          __global const float* A, int transA, int strideA,
          __global const uchar* B, int btype, __global const float* bscales, int bRowLen, int transB, int strideB,
          float alpha, __global const float* bias, int hasBias, float beta, __global const float* C, int hasC,
          __global float* out) {
    __local float As[TILE][TM];
    __local float Bs[TILE][TM];
    float acc[WPT][WPT];
    int batch = get_group_id(2);
    __global const float* aBatch = A + (long) batch * strideA;
    int bBase = batch * strideB;
#define GEMM_A(m, k) (transA ? aBatch[(k) * M + (m)] : aBatch[(m) * K + (k)])
#define GEMM_B(k, n) load_w(B, btype, bscales, bRowLen, bBase + (transB ? (n) * K + (k) : (k) * N + (n)))
    GEMM_ACCUMULATE(M, N, K, !transA, transB, GEMM_A, GEMM_B)
#undef GEMM_A
#undef GEMM_B
    long oBase = (long) batch * M * N;
    for (int i = 0; i < WPT; i++) {
        int m = GEMM_ROW(i);
        for (int j = 0; j < WPT; j++) {
            int n = GEMM_COL(j);
            if (m < M && n < N) {
                float r = alpha * acc[i][j];
                if (hasBias) {
                    r += bias[n];
                }
                if (hasC) {
                    r += beta * C[oBase + m * N + n];
                }
                out[oBase + m * N + n] = r;
            }
        }
    }
}
