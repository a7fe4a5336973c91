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
     * the precision's SNR goal against the float32 reference are kept at higher precision.
     * <ul>
     * <li>BF16 keeps the VAE in F16 (same size): on mini-audioldm-s the VAE decoder's mel reaches
     * only 39.3 dB with BF16 weights (goal 40; its 8-bit mantissa is the limit), 57.8 dB with F16.
     * <li>BF16 and I8 keep the text encoder in F16: Stable Audio's T5 on mini-stable-audio reaches
     * only 36.2 dB with BF16 (goal 40) and 24.6 dB with I8 (goal 25) on its last layers, 54.3 dB
     * with F16. The text encoder runs once per generation, not once per step, so quantising it
     * saves little time; F16 is the same size as BF16 and twice I8's (CLAP's 125 M or T5's 109 M
     * parameters: about 0.1 GB more than I8).
     * </ul>
     * Every other stage meets its goal at F16 (&ge; 57 dB) and I8 (&ge; 32 dB, goal 25).
     */
    public static Precision recommended(DType weights) {
        if (weights == DType.BF16) {
            return new Precision(weights, Map.of("vae", DType.F16, "text_encoder", DType.F16));
        }
        return weights == DType.I8 ? new Precision(weights, Map.of("text_encoder", DType.F16)) : of(weights);
    }

    /**
     * The dtype the converter stores {@code component}'s F32 tensor {@code key} of {@code rank} in at this
     * precision: the component's weight dtype for weight matrices and kernels, F32 for norms, biases and
     * embedding tables (see {@link WeightEncoder}). For weights made rather than read (random benchmark weights),
     * so they are stored as a converted checkpoint's would be.
     */
    public DType storedDType(String component, String key, int rank) {
        return WeightEncoder.storedFloatingDType(key, rank, DType.F32, forComponent(component));
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
