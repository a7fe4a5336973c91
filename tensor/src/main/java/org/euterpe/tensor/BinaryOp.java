package org.euterpe.tensor;

/** Element-wise functions of two operands (tensor-tensor with broadcasting, or tensor-scalar). */
public enum BinaryOp {
    ADD,
    SUB,
    MUL,
    DIV;

    /** Reference semantics in float32. */
    public float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
        };
    }
}
