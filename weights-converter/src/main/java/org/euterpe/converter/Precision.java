package org.euterpe.converter;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.euterpe.tensor.DType;

/**
 * The dtype the weight matrices and convolution kernels of each component are stored in (see
 * {@link WeightEncoder} for which tensors count as weights; the rest stays F32).
 *
 * @param weights   the dtype of every component without an override: F32, F16, BF16 or I8, or
 *                  null for "as stored" (each weight keeps the floating dtype of its checkpoint)
 * @param overrides per-component dtypes (e.g. {@code vocoder -> F32} for a component that loses
 *                  too much at the default precision); null values mean "as stored"
 */
public record Precision(DType weights, Map<String, DType> overrides) {
    /** Every weight as its checkpoint stores it. */
    public static final Precision AS_STORED = new Precision(null, Map.of());

    public Precision {
        check(weights);
        overrides.values().forEach(Precision::check);
        overrides = Collections.unmodifiableMap(new TreeMap<>(overrides)); // sorted: stable metadata, messages
    }

    private static void check(DType d) {
        if (d != null && !d.isFloating() && d != DType.I8) {
            throw new IllegalArgumentException("weights can be stored as F32, F16, BF16 or I8, not " + d);
        }
    }

    /** {@code weights} for every component. */
    public static Precision of(DType weights) {
        return new Precision(weights, Map.of());
    }

    /**
     * The precision to use when a user asks for {@code weights}: components that measurably miss
     * the precision's SNR goal against the float32 reference are kept at higher precision. Measured
     * on mini-audioldm-s: with BF16 weights the VAE decoder's mel reaches only 39.3 dB (goal 40; its
     * 8-bit mantissa is the limit), with F16 weights 57.8 dB, so BF16 keeps the VAE in F16 (same
     * size). Every stage meets its goal at F16 (&ge; 57 dB) and I8 (&ge; 32 dB, goal 25).
     */
    public static Precision recommended(DType weights) {
        return weights == DType.BF16 ? new Precision(weights, Map.of("vae", DType.F16)) : of(weights);
    }

    /** This precision with {@code component} stored as {@code dtype}. */
    public Precision with(String component, DType dtype) {
        Map<String, DType> m = new LinkedHashMap<>(overrides);
        m.put(component, dtype);
        return new Precision(weights, m);
    }

    /** The weight dtype of {@code component}; null means as stored. */
    public DType forComponent(String component) {
        return overrides.containsKey(component) ? overrides.get(component) : weights;
    }

    /**
     * A command-line dtype name: {@code f32}, {@code f16} (or fp16), {@code bf16}, {@code int8}
     * (or i8), case-insensitive.
     */
    public static DType parseDType(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "f32", "fp32", "float32" -> DType.F32;
            case "f16", "fp16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            case "int8", "i8" -> DType.I8;
            default -> throw new IllegalArgumentException("unknown weight dtype \"" + name
                    + "\" (expected f32, f16, bf16 or int8)");
        };
    }

    /** The metadata / display name of a weight dtype, "as stored" for null. */
    public static String name(DType d) {
        return d == null ? "as stored" : d.safetensorsName();
    }

    /** e.g. "I8 (vocoder: F32)". */
    public String describe() {
        String base = name(weights);
        if (overrides.isEmpty()) {
            return base;
        }
        return base + overrides.entrySet().stream().map(e -> e.getKey() + ": " + name(e.getValue()))
                .collect(Collectors.joining(", ", " (", ")"));
    }
}
