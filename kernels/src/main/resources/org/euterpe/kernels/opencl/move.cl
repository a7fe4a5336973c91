// Data movement: pure copies of elements of any dtype, instantiated per element size (the
// suffix is the size in bytes), plus the embedding gather and dtype casts.

#define MOVE_KERNELS(T, SUFFIX)                                                                  \
    /* dst[i] = src[offset of i in the strided source view]: permute. */                         \
    __kernel void gather_##SUFFIX(int n, int rank, int8 dims, int8 srcStrides, __global const T* src, \
                                  __global T* dst) {                                             \
        int i = get_global_id(0);                                                                \
        if (i < n) {                                                                             \
            dst[i] = src[strided_offset(i, rank, dims, srcStrides)];                             \
        }                                                                                        \
    }                                                                                            \
    /* Constant padding: output index minus before[d] along each dim, value outside the input. */ \
    __kernel void pad_##SUFFIX(int n, int rank, int8 outDims, int8 inDims, int8 before, T value, \
                               __global const T* src, __global T* dst) {                         \
        int i = get_global_id(0);                                                                \
        if (i >= n) {                                                                            \
            return;                                                                              \
        }                                                                                        \
        int od[8] = {outDims.s0, outDims.s1, outDims.s2, outDims.s3, outDims.s4, outDims.s5, outDims.s6, outDims.s7}; \
        int id[8] = {inDims.s0, inDims.s1, inDims.s2, inDims.s3, inDims.s4, inDims.s5, inDims.s6, inDims.s7}; \
        int bf[8] = {before.s0, before.s1, before.s2, before.s3, before.s4, before.s5, before.s6, before.s7}; \
        int rest = i;                                                                            \
        int off = 0;                                                                             \
        int stride = 1;                                                                          \
        bool inside = true;                                                                      \
        for (int d = rank - 1; d >= 0; d--) {                                                    \
            int s = rest % od[d] - bf[d];                                                        \
            rest /= od[d];                                                                       \
            inside = inside && s >= 0 && s < id[d];                                              \
            off += s * stride;                                                                   \
            stride *= id[d];                                                                     \
        }                                                                                        \
        dst[i] = inside ? src[off] : value;                                                      \
    }                                                                                            \
    /* Nearest resize of the last two dims of [planes, inH, inW]: source index              */ \
    /* min(floor(dst * scale), in - 1) with scale = (float) in / out, as torch.              */ \
    __kernel void upsample_nearest_##SUFFIX(int inH, int inW, int outH, int outW, float scaleH, float scaleW, \
                                            __global const T* src, __global T* dst) {            \
        int x = get_global_id(0);                                                                \
        int y = get_global_id(1);                                                                \
        int p = get_global_id(2);                                                                \
        if (x >= outW || y >= outH) {                                                            \
            return;                                                                              \
        }                                                                                        \
        int sy = min((int) floor((float) y * scaleH), inH - 1);                                  \
        int sx = min((int) floor((float) x * scaleW), inW - 1);                                  \
        dst[((long) p * outH + y) * outW + x] = src[((long) p * inH + sy) * inW + sx];           \
    }

MOVE_KERNELS(uchar, 1)
MOVE_KERNELS(ushort, 2)
MOVE_KERNELS(uint, 4)
MOVE_KERNELS(ulong, 8)

// out[r, :] = table[ids[r], :] widened to F32; ids are I64 (ids64) or I32 and were checked
// against the vocabulary on the host. table [vocab, d] of the weight dtype; out [count, d].
__kernel void embedding(int d, __global const uchar* ids, int ids64, __global const uchar* table, int wtype,
                        __global const float* scales, __global float* out) {
    int j = get_global_id(0);
    int r = get_global_id(1);
    if (j >= d) {
        return;
    }
    int id = ids64 ? (int) ((__global const long*) ids)[r] : ((__global const int*) ids)[r];
    out[(long) r * d + j] = load_w(table, wtype, scales, d, id * d + j);
}

#define OUT_F32 0
#define OUT_F16 1
#define OUT_BF16 2

// Element type conversion: the source widened by load_w, then rounded to nearest even.
__kernel void cast(int n, __global const uchar* src, int wtype, __global const float* scales, int rowLen,
                   int outType, __global uchar* dst) {
    int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    float v = load_w(src, wtype, scales, rowLen, i);
    if (outType == OUT_F16) {
        vstore_half_rte(v, i, (__global half*) dst);
    } else if (outType == OUT_BF16) {
        uint x = as_uint(v);
        uint bits = (x & 0x7FFFFFFFu) > 0x7F800000u ? (x >> 16) | 0x40u : (x + 0x7FFFu + ((x >> 16) & 1u)) >> 16;
        ((__global ushort*) dst)[i] = (ushort) bits;
    } else {
        ((__global float*) dst)[i] = v;
    }
}
