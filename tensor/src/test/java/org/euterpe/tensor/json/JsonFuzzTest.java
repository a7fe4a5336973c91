package org.euterpe.tensor.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the JSON parser, strict and lenient. Allowed outcomes: a value, or a {@link JsonException};
 * anything else (an unchecked exception, a stack overflow, a hang) is a bug. A parsed value must
 * also survive a write and a re-parse unchanged, which catches silent mis-parses.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code JsonFuzzTestInputs/parse/} as a plain test.
 */
class JsonFuzzTest {
    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void parse(byte[] input) {
        String text = new String(input, java.nio.charset.StandardCharsets.UTF_8);
        check(text, false);
        check(text, true);
    }

    private static void check(String text, boolean lenient) {
        Object value;
        try {
            value = lenient ? Json.parseLenient(text) : Json.parse(text);
        } catch (JsonException e) {
            return;
        }
        String written = Json.write(value, lenient ? Json.Format.COMPACT.withNonFinite() : Json.Format.COMPACT);
        Object again = lenient ? Json.parseLenient(written) : Json.parse(written);
        assertEquals(value, again, () -> "round trip changed the value of " + text + " (written as " + written + ")");
    }
}
