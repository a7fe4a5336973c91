package org.euterpe.tensor.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Writing: exact round trips through the parser, escaping, and the formats. */
class JsonWriterTest {

    private static Object roundTrip(Object v) {
        return Json.parse(Json.write(v));
    }

    @Test
    void doublesRoundTripBitForBit() {
        Random r = new Random(42);
        List<Double> values = new ArrayList<>(List.of(0.0, -0.0, 0.1, 1.0 / 3, 100.0, 1e7, 1e15, 1e16, 1e22, 1e-5,
                -2.5e-300, Double.MIN_VALUE, Double.MIN_NORMAL, Double.MAX_VALUE, -Double.MAX_VALUE,
                Math.nextUp(1.0), 9007199254740993.0, 523.5));
        for (int i = 0; i < 2000; i++) {
            values.add(Double.longBitsToDouble(r.nextLong())); // every exponent, subnormals included
            values.add(r.nextGaussian() * Math.pow(10, r.nextInt(40) - 20));
        }
        for (double d : values) {
            if (!Double.isFinite(d)) {
                continue;
            }
            Object back = roundTrip(d);
            assertEquals(Double.class, back.getClass(), Json.write(d));
            assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits((Double) back), Json.write(d));
        }
    }

    @Test
    void floatsRoundTripToTheSameFloatInTheirShortForm() {
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (!Float.isFinite(f)) {
                continue;
            }
            String text = Json.write(f);
            assertEquals(Float.floatToRawIntBits(f), Float.floatToRawIntBits(((Double) Json.parse(text)).floatValue()),
                    text);
        }
        assertEquals("0.1", Json.write(0.1f)); // not 0.10000000149011612
    }

    @Test
    void integersStayIntegers() {
        for (long v : new long[] {0, -1, 42, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 53}) {
            assertEquals(v, roundTrip(v));
        }
        assertEquals("[7,-3,12,5]", Json.write(List.of(7, (short) -3, (byte) 12, 5L)));
        assertEquals("123456789012345678901234567890", Json.write(new BigInteger("123456789012345678901234567890")));
        assertEquals(0.0625, roundTrip(new BigDecimal("0.0625")));
    }

    @Test
    void nonFiniteNumbersAreRefusedUnlessAsked() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(Float.NEGATIVE_INFINITY)));
        List<Double> v = List.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY);
        String text = Json.write(v, Json.Format.COMPACT.withNonFinite());
        assertEquals("[NaN,Infinity,-Infinity]", text);
        assertEquals(v, Json.parseLenient(text));
    }

    @Test
    void everyBmpCharacterAndSomeSupplementaryOnesRoundTrip() {
        StringBuilder sb = new StringBuilder();
        for (char c = 0; c < 0xD800; c++) {
            sb.append(c);
        }
        for (int c = 0xE000; c <= 0xFFFF; c++) {
            sb.append((char) c);
        }
        sb.appendCodePoint(0x1F3B5).appendCodePoint(0x10FFFF).appendCodePoint(0x10000);
        String s = sb.toString();
        String text = Json.write(s);
        assertEquals(s, Json.parse(text));
        // The text itself must be valid JSON: no raw control characters.
        assertTrue(text.chars().noneMatch(c -> c < 0x20), "raw control character in output");
    }

    @Test
    void controlCharactersUseShortEscapesWhereJsonHasThem() {
        assertEquals("\"\\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\"", Json.write("\"\\\b\f\n\r\t\u0000\u001f"));
        assertEquals("\"/\u007f\"", Json.write("/\u007f"));
    }

    @Test
    void supplementaryCharactersAreWrittenRawAndSurviveUtf8() {
        String s = "音 \ud83c\udfb5";
        String text = Json.write(s);
        assertEquals("\"" + s + "\"", text);
        assertEquals(s, Json.parse(new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)));
    }

    @Test
    void loneSurrogatesAreEscapedSoUtf8CanCarryThem() {
        for (String s : List.of("\ud800", "a\udc00b", "\udfb5\ud83c", "x\ud83c")) {
            String text = Json.write(s);
            assertTrue(text.chars().noneMatch(c -> Character.isSurrogate((char) c)), text);
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            assertEquals(s, Json.parse(new String(utf8, StandardCharsets.UTF_8)));
        }
    }

    @Test
    void nestedStructuresRoundTrip() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("list", Arrays.asList(1L, 2.5, null, true, "x", List.of(), Map.of()));
        m.put("nested", Map.of("k", List.of(List.of(1L), List.of(-2L))));
        m.put("", "empty key");
        assertEquals(m, roundTrip(m));
        assertEquals("{\"list\":[1,2.5,null,true,\"x\",[],{}],\"nested\":{\"k\":[[1],[-2]]},\"\":\"empty key\"}",
                Json.write(m));
    }

    @Test
    void javaArraysAndCollectionsAreArrays() {
        assertEquals("[1,2]", Json.write(new int[] {1, 2}));
        assertEquals("[3,-4]", Json.write(new long[] {3, -4}));
        assertEquals("[0.5,1.0E-7]", Json.write(new float[] {0.5f, 1e-7f}));
        assertEquals("[0.25]", Json.write(new double[] {0.25}));
        assertEquals("[\"a\",null]", Json.write(new Object[] {"a", null}));
        assertEquals("[\"only\"]", Json.write(Set.of("only")));
    }

    @Test
    void refusesWhatJsonCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, "non-string key")));
        assertThrows(IllegalArgumentException.class, () -> Json.write('c'));
    }

    @Test
    void aCycleIsAnErrorNotAStackOverflow() {
        List<Object> cyclic = new ArrayList<>();
        cyclic.add(cyclic);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(cyclic));
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
    }

    @Test
    void prettyPrinting() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dtype", "F32");
        m.put("shape", List.of(2, 3));
        m.put("empty", List.of());
        m.put("rows", List.of(List.of(1, 2), Map.of("a", 1)));
        m.put("meta", Map.of());
        String expected = """
                {
                  "dtype": "F32",
                  "shape": [2, 3],
                  "empty": [],
                  "rows": [
                    [1, 2],
                    {
                      "a": 1
                    }
                  ],
                  "meta": {}
                }""";
        assertEquals(expected, Json.writePretty(m));
        assertEquals(Json.parse(Json.write(m)), Json.parse(Json.writePretty(m)));
        assertEquals(Json.write(m), Json.write(Json.parse(Json.writePretty(m))));
    }

    @Test
    void compactOutputHasNoWhitespace() {
        String text = Json.write(Map.of("a", List.of(1, 2, Map.of("b", "c d"))));
        assertFalse(text.replace("c d", "").contains(" "), text);
        assertFalse(text.contains("\n"));
        assertThrows(IllegalArgumentException.class, () -> new Json.Format(-1, false));
    }
}
