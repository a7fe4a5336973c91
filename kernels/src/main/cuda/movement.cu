// Data movement: strided copies (permute, slice, concat, pad all reduce to one), nearest
// upsampling and embedding gathers. Copies move raw elements of 1, 2, 4 or 8 bytes.
#include "euterpe.cuh"

using namespace euterpe;

template <typename T>
__device__ __forceinline__ void copy_strided(const char* src, char* dst, long long n, const Strides& s) {
    const T* in = reinterpret_cast<const T*>(src);
    T* out = reinterpret_cast<T*>(dst);
    EUTERPE_FOR_EACH(i, n) {
        long long os, od;
        s.offsets(i, os, od);
        out[od] = in[os];
    }
}

// For every index of the region s.dims: dst[index . s.b] = src[index . s.a] (element strides).
extern "C" __global__ void strided_copy(const char* src, char* dst, long long n, int esz, Strides s) {
    switch (esz) {
    case 8: copy_strided<unsigned long long>(src, dst, n, s); break;
    case 4: copy_strided<unsigned int>(src, dst, n, s); break;
    case 2: copy_strided<unsigned short>(src, dst, n, s); break;
    default: copy_strided<unsigned char>(src, dst, n, s); break;
    }
}

template <typename T>
__device__ __forceinline__ void upsample(const char* src, char* dst, long long planes, int inH, int inW, int outH,
                                         int outW) {
    const T* x = reinterpret_cast<const T*>(src);
    T* y = reinterpret_cast<T*>(dst);
    float scaleH = static_cast<float>(inH) / static_cast<float>(outH);
    float scaleW = static_cast<float>(inW) / static_cast<float>(outW);
    long long n = planes * outH * outW;
    EUTERPE_FOR_EACH(i, n) {
        int c = static_cast<int>(i % outW);
        long long r = i / outW;
        int row = static_cast<int>(r % outH);
        long long p = r / outH;
        int sy = min(static_cast<int>(floorf(__fmul_rn(static_cast<float>(row), scaleH))), inH - 1);
        int sx = min(static_cast<int>(floorf(__fmul_rn(static_cast<float>(c), scaleW))), inW - 1);
        y[i] = x[(p * inH + sy) * inW + sx];
    }
}

// Nearest-neighbour resize of the last two dims of [planes, inH, inW], elements of esz bytes, with
// the source index computed as torch does, in float: min(floor(dst * (float) in / out), in - 1).
extern "C" __global__ void upsample_nearest(const char* x, char* y, long long planes, int inH, int inW, int outH,
                                            int outW, int esz) {
    switch (esz) {
    case 8: upsample<unsigned long long>(x, y, planes, inH, inW, outH, outW); break;
    case 4: upsample<unsigned int>(x, y, planes, inH, inW, outH, outW); break;
    case 2: upsample<unsigned short>(x, y, planes, inH, inW, outH, outW); break;
    default: upsample<unsigned char>(x, y, planes, inH, inW, outH, outW); break;
    }
}

// out[i, :] = table[ids[i], :] widened to F32; ids are I64 (idsType 5) or I32, already checked
// against the vocabulary on the host.
extern "C" __global__ void embedding_f32(const void* ids, int idsType, const void* table, const float* scales,
                                         int tableType, long long count, int d, float* out) {
    Weight w{table, scales, d, tableType};
    long long n = count * d;
    EUTERPE_FOR_EACH(i, n) {
        long long row = i / d;
        long long id = idsType == DT_I64 ? static_cast<const long long*>(ids)[row] : static_cast<const int*>(ids)[row];
        out[i] = w(id * d + (i - row * d));
    }
}
