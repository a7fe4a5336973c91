package org.euterpe.tensor;

/**
 * Element types a tensor can hold.
 *
 * <p>{@link #I8} is weight-only storage: an I8 tensor carries a per-output-channel F32 scale
 * tensor ({@link Tensor#scales()}), and element {@code [o, ...]} stands for {@code q * scale[o]}.
 */
public enum DType {
    F32(4, "F32"),
    F16(2, "F16"),
    BF16(2, "BF16"),
    I8(1, "I8"),
    I32(4, "I32"),
    I64(8, "I64");

    private final int byteSize;
    private final String safetensorsName;

    DType(int byteSize, String safetensorsName) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype's name in a safetensors header ("F32", "BF16", ...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    public boolean isFloating() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The dtype for a safetensors header name, or null when the engine does not know it. */
    public static DType fromSafetensorsName(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** IEEE half (binary16) bits to float. */
    public static float f16ToF32(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Float to IEEE half bits, round to nearest even. */
    public static short f32ToF16(float v) {
        return Float.floatToFloat16(v);
    }

    /** bfloat16 bits to float: the upper half of an f32. */
    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Float to bfloat16 bits, round to nearest even; NaN stays NaN. */
    public static short f32ToBf16(float v) {
        int x = Float.floatToRawIntBits(v);
        if ((x & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((x >>> 16) | 0x40); // quiet NaN
        }
        int rounding = 0x7FFF + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }
}
