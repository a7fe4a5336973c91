// Element-wise ops on F32 tensors. Op codes are the ordinals of UnaryOp / BinaryOp.

#define U_SILU 0
#define U_GELU 1
#define U_RELU 2
#define U_LEAKY_RELU 3
#define U_TANH 4
#define U_EXP 5
#define U_SIGMOID 6
#define U_NEG 7
#define U_SQRT 8

inline float unary_op(int op, float x, float param) {
    switch (op) {
    case U_SILU:
        return x / (1.0f + exp(-x));
    case U_GELU: {
        // Exact GELU; erfc for negative x keeps relative precision in the far tail.
        float z = x * M_SQRT1_2_F;
        return x >= 0.0f ? 0.5f * x * (1.0f + erf(z)) : 0.5f * x * erfc(-z);
    }
    case U_RELU:
        return x < 0.0f ? 0.0f : x; // NaN stays NaN
    case U_LEAKY_RELU:
        return x >= 0.0f ? x : param * x;
    case U_TANH:
        return tanh(x);
    case U_EXP:
        return exp(x);
    case U_SIGMOID:
        return 1.0f / (1.0f + exp(-x));
    case U_NEG:
        return -x;
    default:
        return sqrt(x);
    }
}

inline float binary_op(int op, float a, float b) {
    switch (op) {
    case 0:
        return a + b;
    case 1:
        return a - b;
    case 2:
        return a * b;
    default:
        return a / b;
    }
}

__kernel void unary(int op, float param, int n, __global const float* x, __global float* out) {
    int i = get_global_id(0);
    if (i < n) {
        out[i] = unary_op(op, x[i], param);
    }
}

__kernel void scalar_op(int op, float s, int n, __global const float* x, __global float* out) {
    int i = get_global_id(0);
    if (i < n) {
        out[i] = binary_op(op, x[i], s);
    }
}

// out = a op b with numpy broadcasting: out has dims[0, rank) (rank <= 8, row-major), and
// sa / sb are the operands' element strides per output dim (0 where broadcast).
__kernel void binary_broadcast(int op, int n, int rank, int8 dims, int8 sa, int8 sb, __global const float* a,
                               __global const float* b, __global float* out) {
    int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    out[i] = binary_op(op, a[strided_offset(i, rank, dims, sa)], b[strided_offset(i, rank, dims, sb)]);
}
