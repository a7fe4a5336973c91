package org.euterpe.tensor;

/** Element-wise functions of one tensor. {@code param} is used only where noted. */
public enum UnaryOp {
    SILU,
    /** Exact GELU, {@code x * (1 + erf(x / sqrt 2)) / 2}, as torch's default. */
    GELU,
    RELU,
    /** {@code x >= 0 ? x : param * x}. */
    LEAKY_RELU,
    TANH,
    EXP,
    SIGMOID,
    NEG,
    SQRT,
}
