package org.euterpe.tensor.json;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Writes one value as JSON text in a {@link Json.Format}; see {@link Json} for the accepted types. */
final class JsonWriter {
    private final Json.Format format;
    private final StringBuilder sb = new StringBuilder();

    JsonWriter(Json.Format format) {
        this.format = format;
    }

    String write(Object value) {
        value(value, 0);
        return sb.toString();
    }

    private void value(Object v, int depth) {
        if (depth >= Json.MAX_DEPTH) {
            throw new IllegalArgumentException("JSON nesting deeper than " + Json.MAX_DEPTH + " levels (a cycle?)");
        }
        switch (v) {
            case null -> sb.append("null");
            case String s -> string(s);
            case Boolean b -> sb.append(b.booleanValue());
            case Double d -> finite(d, Double.toString(d));
            case Float f -> finite(f, Float.toString(f)); // shortest text that reads back as this float
            case Long l -> sb.append(l.longValue());
            case Integer i -> sb.append(i.intValue());
            case Short s -> sb.append(s.shortValue());
            case Byte b -> sb.append(b.byteValue());
            case BigInteger b -> sb.append(b);
            case BigDecimal b -> sb.append(b);
            case Map<?, ?> m -> object(m, depth);
            case Collection<?> c -> array(new ArrayList<>(c), depth);
            default -> {
                if (!v.getClass().isArray()) {
                    throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
                }
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < Array.getLength(v); i++) {
                    items.add(Array.get(v, i));
                }
                array(items, depth);
            }
        }
    }

    private void finite(double d, String text) {
        if (Double.isFinite(d)) {
            sb.append(text);
        } else if (!format.allowNonFinite()) {
            throw new IllegalArgumentException("JSON cannot hold " + d + " (Json.Format.withNonFinite writes it)");
        } else {
            sb.append(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        }
    }

    private void object(Map<?, ?> m, int depth) {
        if (m.isEmpty()) {
            sb.append("{}");
            return;
        }
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
            }
            if (!first) {
                sb.append(',');
            }
            first = false;
            newline(depth + 1);
            string(key);
            sb.append(format.indent() > 0 ? ": " : ":");
            value(e.getValue(), depth + 1);
        }
        newline(depth);
        sb.append('}');
    }

    private void array(List<?> items, int depth) {
        if (items.isEmpty()) {
            sb.append("[]");
            return;
        }
        // Pretty output keeps arrays of plain values (shapes, offsets) on one line.
        boolean multiline = format.indent() > 0 && items.stream().anyMatch(JsonWriter::isContainer);
        sb.append('[');
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                sb.append(format.indent() > 0 && !multiline ? ", " : ",");
            }
            if (multiline) {
                newline(depth + 1);
            }
            value(items.get(i), depth + 1);
        }
        if (multiline) {
            newline(depth);
        }
        sb.append(']');
    }

    private static boolean isContainer(Object v) {
        return v instanceof Map || v instanceof Collection || (v != null && v.getClass().isArray());
    }

    private void newline(int depth) {
        if (format.indent() > 0) {
            sb.append('\n').repeat(' ', depth * format.indent());
        }
    }

    private void string(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || isLoneSurrogate(s, i)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** A surrogate that is not half of a well-formed pair (UTF-8 cannot encode it). */
    private static boolean isLoneSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        }
        return false;
    }
}
