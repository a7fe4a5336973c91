package org.euterpe.tensor.json;

/**
 * A small JSON parser and writer with no dependencies.
 *
 * <p>Values map to Java as: object → {@code LinkedHashMap<String, Object>} (key order kept),
 * array → {@code ArrayList<Object>}, string → String, number → Long when the literal is an
 * integer that fits (else Double; {@code -0} is the Double -0.0), true/false → Boolean,
 * null → null.
 *
 * <p>Parsing is strict RFC 8259 by default: no trailing commas, leading zeros, single quotes,
 * comments, unescaped control characters or non-JSON whitespace; numbers beyond the double range
 * are refused; duplicate keys are refused too (RFC 8259 leaves them undefined, and a silent
 * "last wins" hides mistakes). <code>&#92;u</code> escapes yield UTF-16 units, so an escaped surrogate
 * pair becomes the supplementary character and a lone surrogate is kept as a Java char.
 * {@link #parseLenient} also accepts the {@code NaN}, {@code Infinity} and {@code -Infinity}
 * tokens (and overflowing numbers, as infinities) that Python's json module writes. Errors are
 * {@link JsonException}s carrying the 1-based line and column.
 *
 * <p>Writing ({@link #write}) accepts the types above plus other boxed integers, Float,
 * BigInteger/BigDecimal, any Collection and Java arrays ({@code Object[]}, {@code int[]},
 * {@code long[]}, {@code float[]}, {@code double[]}). Doubles are written in their shortest
 * form that parses back to the same double (Floats: to the same float). Non-ASCII text is
 * written as is, except lone surrogates, which are escaped so the text survives UTF-8 encoding.
 */
public final class Json {
    /** Nesting limit for parsing and writing, so a hostile document (or a cyclic map) cannot overflow the stack. */
    public static final int MAX_DEPTH = 512;

    private Json() {
    }

    /**
     * How {@link #write(Object, Format)} lays text out.
     *
     * @param indent         spaces per nesting level; 0 writes everything on one line with no spaces
     * @param allowNonFinite write NaN and infinities as Python does ({@code NaN}, {@code Infinity},
     *                       {@code -Infinity}; readable by {@link #parseLenient}) instead of refusing them
     */
    public record Format(int indent, boolean allowNonFinite) {
        /** One line, no spaces: the most compact text. */
        public static final Format COMPACT = new Format(0, false);
        /** Two-space indentation; arrays of plain values stay on one line. */
        public static final Format PRETTY = new Format(2, false);

        public Format {
            if (indent < 0) {
                throw new IllegalArgumentException("negative indent " + indent);
            }
        }

        public Format withNonFinite() {
            return new Format(indent, true);
        }
    }

    /** Parses strict JSON. */
    public static Object parse(String text) {
        return new JsonParser(text, false).document();
    }

    /** Parses JSON that may contain NaN, Infinity and -Infinity. */
    public static Object parseLenient(String text) {
        return new JsonParser(text, true).document();
    }

    /** As {@link #parse(String)}; a syntax error's message starts with {@code source} (e.g. the file). */
    public static Object parse(String text, String source) {
        try {
            return parse(text);
        } catch (JsonException e) {
            throw e.in(source);
        }
    }

    /** As {@link #parseLenient(String)}; a syntax error's message starts with {@code source}. */
    public static Object parseLenient(String text, String source) {
        try {
            return parseLenient(text);
        } catch (JsonException e) {
            throw e.in(source);
        }
    }

    /** Compact JSON text for a value; throws IllegalArgumentException for NaN, infinities and unsupported types. */
    public static String write(Object value) {
        return write(value, Format.COMPACT);
    }

    /** Indented JSON text for a value, for people to read. */
    public static String writePretty(Object value) {
        return write(value, Format.PRETTY);
    }

    public static String write(Object value, Format format) {
        return new JsonWriter(format).write(value);
    }
}
