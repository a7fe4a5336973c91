// Helpers shared by every kernel file (this file is built first, in the same program).

// Weight dtype codes, as OpenClBackend passes them.
#define W_F32 0
#define W_F16 1
#define W_BF16 2
#define W_I8 3

// Element i of a weight operand, widened to float. I8 elements are dequantised with the
// per-dim-0 scale: row = i / rowLen. The branch is uniform across a launch.
inline float load_w(__global const uchar* w, int wtype, __global const float* scales, int rowLen, int i) {
    switch (wtype) {
    case W_F16:
        return vload_half(i, (__global const half*) w);
    case W_BF16:
        return as_float(((uint) ((__global const ushort*) w)[i]) << 16);
    case W_I8:
        return (float) ((__global const char*) w)[i] * scales[i / rowLen];
    default:
        return ((__global const float*) w)[i];
    }
}

// Work-group reductions over a __local scratch of get_local_size(0) floats; every work-item
// gets the result. The size must be a power of two.
inline float wg_sum(float v, __local float* scratch) {
    int lid = get_local_id(0);
    int n = get_local_size(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] += scratch[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline float wg_max(float v, __local float* scratch) {
    int lid = get_local_id(0);
    int n = get_local_size(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// Offset of flat row-major index i of a tensor with dims[0, rank) (rank <= 8) in a strided
// view with the given element strides.
inline int strided_offset(int i, int rank, int8 dims, int8 strides) {
    int dm[8] = {dims.s0, dims.s1, dims.s2, dims.s3, dims.s4, dims.s5, dims.s6, dims.s7};
    int st[8] = {strides.s0, strides.s1, strides.s2, strides.s3, strides.s4, strides.s5, strides.s6, strides.s7};
    int off = 0;
    for (int d = rank - 1; d >= 0; d--) {
        off += (i % dm[d]) * st[d];
        i /= dm[d];
    }
    return off;
}
