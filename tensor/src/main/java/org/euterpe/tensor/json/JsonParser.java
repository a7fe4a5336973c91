package org.euterpe.tensor.json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A recursive-descent parser over one document; see {@link Json} for the accepted language. */
final class JsonParser {
    private final String src;
    private final boolean lenient;
    private int pos;

    JsonParser(String src, boolean lenient) {
        this.src = src;
        this.lenient = lenient;
    }

    Object document() {
        skipWs();
        Object v = value(0);
        skipWs();
        if (pos != src.length()) {
            throw error("unexpected " + describe(src.charAt(pos)) + " after the JSON value");
        }
        return v;
    }

    private Object value(int depth) {
        if (depth >= Json.MAX_DEPTH) {
            throw error("nesting deeper than " + Json.MAX_DEPTH + " levels");
        }
        if (pos >= src.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = src.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> word("true", Boolean.TRUE);
            case 'f' -> word("false", Boolean.FALSE);
            case 'n' -> word("null", null);
            case 'N' -> nonFinite("NaN", Double.NaN);
            case 'I' -> nonFinite("Infinity", Double.POSITIVE_INFINITY);
            case '\'' -> throw error("single-quoted strings are not JSON");
            default -> {
                if (c == '-' || isDigit(c)) {
                    yield number();
                }
                throw error("unexpected " + describe(c) + ", expected a value");
            }
        };
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> map = new LinkedHashMap<>();
        pos++; // {
        skipWs();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWs();
            if (peek() != '"') {
                throw error(peek() == '}' ? "trailing comma before '}'" : "expected a string key");
            }
            int keyPos = pos;
            String key = string();
            skipWs();
            if (peek() != ':') {
                throw error("expected ':' after the key");
            }
            pos++;
            skipWs();
            Object v = value(depth + 1);
            if (map.containsKey(key)) {
                pos = keyPos;
                throw error("duplicate key " + Json.write(key));
            }
            map.put(key, v);
            skipWs();
            if (!more('}')) {
                return map;
            }
        }
    }

    private List<Object> array(int depth) {
        List<Object> list = new ArrayList<>();
        pos++; // [
        skipWs();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWs();
            if (peek() == ']') {
                throw error("trailing comma before ']'");
            }
            list.add(value(depth + 1));
            skipWs();
            if (!more(']')) {
                return list;
            }
        }
    }

    /** After an element: true at ',' (another follows), false at {@code close} (consumed either way). */
    private boolean more(char close) {
        if (pos >= src.length()) {
            throw error("unexpected end of input, expected ',' or '" + close + "'");
        }
        char c = src.charAt(pos);
        if (c == ',' || c == close) {
            pos++;
            return c == ',';
        }
        throw error("expected ',' or '" + close + "', got " + describe(c));
    }

    private String string() {
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= src.length()) {
                throw error("unterminated string");
            }
            char c = src.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("unescaped control character " + describe(c) + " in string");
            }
            if (c != '\\') {
                // Copy the run of plain characters at once: most strings have no escapes.
                int start = pos;
                while (pos < src.length() && (c = src.charAt(pos)) != '"' && c != '\\' && c >= 0x20) {
                    pos++;
                }
                sb.append(src, start, pos);
                continue;
            }
            if (pos + 1 >= src.length()) {
                throw error("unterminated escape");
            }
            char e = src.charAt(pos + 1);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    // One UTF-16 unit: a surrogate pair written as two escapes joins up in the StringBuilder.
                    sb.append((char) hex4(pos + 2));
                    pos += 4;
                }
                default -> {
                    pos++;
                    throw error("bad escape '\\" + printable(e) + "'");
                }
            }
            pos += 2;
        }
    }

    private int hex4(int at) {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            if (at + i >= src.length()) {
                pos = at + i;
                throw error("truncated \\u escape");
            }
            char c = src.charAt(at + i);
            // Not Character.digit: it also accepts non-ASCII digits such as fullwidth ones.
            int d = c >= '0' && c <= '9' ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                    : -1;
            if (d < 0) {
                pos = at + i;
                throw error("bad hex digit " + describe(c) + " in \\u escape");
            }
            v = v * 16 + d;
        }
        return v;
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
            if (peek() == 'I') {
                return nonFinite("Infinity", Double.NEGATIVE_INFINITY);
            }
        }
        if (peek() == '0') {
            pos++;
            if (isDigit(peek())) {
                throw error("leading zero in number");
            }
        } else if (isDigit(peek())) {
            skipDigits();
        } else {
            throw error("expected a digit after '-'");
        }
        boolean integer = true;
        if (peek() == '.') {
            integer = false;
            pos++;
            if (!isDigit(peek())) {
                throw error("expected a digit after the decimal point");
            }
            skipDigits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integer = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent");
            }
            skipDigits();
        }
        String lit = src.substring(start, pos);
        if (integer && !lit.equals("-0")) {
            try {
                return Long.parseLong(lit);
            } catch (NumberFormatException tooBig) {
                // falls through to a double
            }
        }
        double d = Double.parseDouble(lit);
        if (Double.isInfinite(d) && !lenient) {
            pos = start;
            throw error("number " + lit + " is beyond the double range");
        }
        return d;
    }

    private void skipDigits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object nonFinite(String word, double value) {
        if (!src.startsWith(word, pos)) {
            throw error("unexpected token, expected " + word);
        }
        if (!lenient) {
            throw error(word + " is not JSON (the lenient parser accepts it)");
        }
        pos += word.length();
        return value;
    }

    private Object word(String w, Object value) {
        if (!src.startsWith(w, pos)) {
            throw error("unexpected token, expected " + w);
        }
        pos += w.length();
        return value;
    }

    private char peek() {
        return pos < src.length() ? src.charAt(pos) : '\0';
    }

    private void skipWs() {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    /** An error at {@code pos}; the column counts UTF-16 units from 1. */
    private JsonException error(String message) {
        int end = Math.min(pos, src.length());
        int lineStart = src.lastIndexOf('\n', end - 1) + 1;
        int line = 1;
        for (int i = 0; i < lineStart; i++) {
            if (src.charAt(i) == '\n') {
                line++;
            }
        }
        return new JsonException(message, line, end - lineStart + 1);
    }

    private static String describe(char c) {
        return "'" + printable(c) + "'";
    }

    private static String printable(char c) {
        return Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
                || Character.isSurrogate(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }
}
