package org.euterpe.tensor.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Parsing: RFC 8259 strictness, the lenient extensions, value types, and error positions. */
class JsonParserTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -2.5, true, false, null, \"s\"], \"b\": {}, \"c\": []}\r\n\t");
        assertEquals(Map.of("a", Arrays.asList(1L, -2.5, true, false, null, "s"), "b", Map.of(), "c", List.of()), v);
    }

    @Test
    void keepsKeyOrder() {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse("{\"z\":1,\"a\":2,\"m\":3}");
        assertEquals(List.of("z", "a", "m"), List.copyOf(m.keySet()));
    }

    @Test
    void topLevelScalars() {
        assertEquals("x", Json.parse("\"x\""));
        assertEquals(7L, Json.parse("7"));
        assertNull(Json.parse(" null "));
    }

    @Test
    void integersAreLongsWhenTheyFitElseDoubles() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(1234567890123456789L, Json.parse("1234567890123456789"));
        assertEquals(9.223372036854775808e18, Json.parse("9223372036854775808"));
        assertEquals(1e30, Json.parse("1000000000000000000000000000000"));
        assertEquals(0L, Json.parse("0"));
    }

    @Test
    void fractionsAndExponentsAreDoubles() {
        assertEquals(2.0, Json.parse("2.0"));
        assertEquals(1000.0, Json.parse("1e3"));
        assertEquals(1000.0, Json.parse("1E+3"));
        assertEquals(0.00125, Json.parse("1.25e-3"));
        assertEquals(-0.0, Json.parse("-0.0"));
        assertEquals(4.9e-324, Json.parse("4.9e-324"));
    }

    @Test
    void minusZeroKeepsItsSign() {
        Object v = Json.parse("-0");
        assertInstanceOf(Double.class, v);
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) v));
    }

    @Test
    void escapes() {
        assertEquals("\"\\/\b\f\n\r\t", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
        assertEquals("é\u0000\u001f", Json.parse("\"\\u00E9\\u0000\\u001F\""));
    }

    @Test
    void surrogatePairEscapesCombineIntoOneCodePoint() {
        String s = (String) Json.parse("\"\\ud83c\\udfb5\"");
        assertEquals(1, s.codePointCount(0, s.length()));
        assertEquals(0x1F3B5, s.codePointAt(0));
        assertEquals("\ud83c\udfb5", Json.parse("\"\ud83c\udfb5\"")); // and unescaped
    }

    @Test
    void loneSurrogatesAreKeptAsChars() {
        assertEquals("\ud800x", Json.parse("\"\\ud800x\""));
        assertEquals("\udc00", Json.parse("\"\\udc00\""));
        assertEquals("\udfb5\ud83c", Json.parse("\"\\udfb5\\ud83c\"")); // reversed pair: two lone ones
    }

    @Test
    void anyUnicodeIsAllowedRawInStrings() {
        assertEquals("音楽 \u007f \u2028", Json.parse("\"音楽 \u007f \u2028\""));
    }

    /** Input that RFC 8259 forbids, each with a fragment of the expected message. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            [1,]                 | trailing comma before ']'
            {"a":1,}             | trailing comma before '}'
            [,1]                 | unexpected ','
            01                   | leading zero
            -01                  | leading zero
            00.5                 | leading zero
            'a'                  | single-quoted
            {'a':1}              | expected a string key
            {a:1}                | expected a string key
            {"a" 1}              | expected ':'
            [1 2]                | expected ',' or ']'
            {"a":1 "b":2}        | expected ',' or '}'
            1.                   | digit after the decimal point
            .5                   | unexpected '.'
            +1                   | unexpected '+'
            -                    | expected a digit after '-'
            1e                   | digit in the exponent
            1e+                  | digit in the exponent
            0x10                 | after the JSON value
            tru                  | expected true
            nul                  | expected null
            True                 | unexpected 'T'
            [                    | end of input
            {"a":                | end of input
            `"abc`               | unterminated string
            `"\\x"`              | bad escape '\\x'
            `"\\u12G4"`          | bad hex digit 'G'
            `"\\u12"`            | bad hex digit '\"'
            `"\\u1`              | truncated
            `"a\\`               | unterminated escape
            `{"a":1}x`           | after the JSON value
            `{"a":1,"a":2}`      | duplicate key "a"
            /* c */ 1            | unexpected '/'
            `[1] // c`           | after the JSON value
            1e400                | beyond the double range
            -1e400               | beyond the double range
            NaN                  | NaN is not JSON
            Infinity             | Infinity is not JSON
            -Infinity            | Infinity is not JSON
            """)
    void strictRejects(String text, String fragment) {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text));
        assertTrue(e.getMessage().contains(fragment), "\"" + e.getMessage() + "\" should mention \"" + fragment + "\"");
    }

    @Test
    void emptyAndBlankInputAreErrors() {
        assertThrows(JsonException.class, () -> Json.parse(""));
        assertThrows(JsonException.class, () -> Json.parse(" \n "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"\tb\"", "\"\nb\"", "\"\u0000\"", "\"\u001f\""})
    void rawControlCharactersInStringsAreRejected(String text) {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text));
        assertTrue(e.getMessage().contains("unescaped control character"), e.getMessage());
        assertEquals(2, e.column());
    }

    @Test
    void nonAsciiDigitsAreNotHexDigits() {
        // Character.digit would accept these (Arabic-Indic and fullwidth digits).
        assertThrows(JsonException.class, () -> Json.parse("\"\\u\u0661\u0662\u0663\u0664\""));
        assertThrows(JsonException.class, () -> Json.parse("\"\\u\uff10\uff10\uff14\uff11\""));
    }

    @Test
    void onlyJsonWhitespaceSeparates() {
        assertThrows(JsonException.class, () -> Json.parse("\u00a01")); // no-break space
        assertThrows(JsonException.class, () -> Json.parse("[1,\u000b2]")); // vertical tab
        assertThrows(JsonException.class, () -> Json.parse("\ufeff{}")); // byte order mark
    }

    @Test
    void lenientAcceptsPythonsNonFiniteTokens() {
        assertEquals(Arrays.asList(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -1.5),
                Json.parseLenient("[NaN, Infinity, -Infinity, -1.5]"));
        assertEquals(Map.of("lambda_min_clipped", Double.NEGATIVE_INFINITY),
                Json.parseLenient("{\"lambda_min_clipped\": -Infinity}"));
        assertEquals(Double.POSITIVE_INFINITY, Json.parseLenient("1e400"));
    }

    @Test
    void lenientIsOtherwiseStrict() {
        assertThrows(JsonException.class, () -> Json.parseLenient("[1,]"));
        assertThrows(JsonException.class, () -> Json.parseLenient("nan"));
        assertThrows(JsonException.class, () -> Json.parseLenient("-Inf"));
        assertThrows(JsonException.class, () -> Json.parseLenient("+Infinity"));
        assertThrows(JsonException.class, () -> Json.parseLenient("Infinityx"));
    }

    // ---------------------------------------------------------------- positions

    @Test
    void errorLineAndColumn() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\n  \"a\": 1,\n  \"b\": x\n}"));
        assertEquals(3, e.line());
        assertEquals(8, e.column());
        assertTrue(e.getMessage().endsWith("at line 3, column 8"), e.getMessage());
    }

    @Test
    void errorOnTheFirstLine() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("[1, 2,, 3]"));
        assertEquals(1, e.line());
        assertEquals(7, e.column());
    }

    @Test
    void crlfCountsAsOneLine() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("[\r\n1,\r\n\r\n  @]"));
        assertEquals(4, e.line());
        assertEquals(3, e.column());
    }

    @Test
    void errorAtTheEndOfInput() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\"a\":\n[1,"));
        assertEquals(2, e.line());
        assertEquals(4, e.column());
    }

    @Test
    void duplicateKeyIsReportedAtTheSecondKey() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\"k\": 1,\n \"k\": 2}"));
        assertEquals(2, e.line());
        assertEquals(2, e.column());
    }

    @Test
    void nonFiniteTokenPositionInStrictMode() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\"x\": [0.5,\n  NaN]}"));
        assertEquals(2, e.line());
        assertEquals(3, e.column());
    }

    // ---------------------------------------------------------------- depth

    @Test
    void nestingUpToTheLimitIsFine() {
        int d = Json.MAX_DEPTH;
        Object v = Json.parse("[".repeat(d) + "]".repeat(d));
        for (int i = 1; i < d; i++) {
            v = ((List<?>) v).get(0);
        }
        assertEquals(List.of(), v);
    }

    @Test
    void nestingBeyondTheLimitIsAnErrorNotAStackOverflow() {
        int d = Json.MAX_DEPTH + 1;
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("[".repeat(d) + "]".repeat(d)));
        assertTrue(e.getMessage().contains("nesting deeper than"), e.getMessage());
        assertThrows(JsonException.class, () -> Json.parse("{\"a\":".repeat(1_000_000)));
    }
}
