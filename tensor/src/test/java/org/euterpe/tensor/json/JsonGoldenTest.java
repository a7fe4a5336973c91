package org.euterpe.tensor.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.euterpe.tensor.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The real JSON files of the tiny conformance cases: goldens (Python json with -Infinity) and configs. */
class JsonGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-audioldm", "tiny-musicldm"})
    void goldenJsonNeedsTheLenientParser(String name) throws IOException {
        String text = Files.readString(TestData.conformanceCase(name).resolve("golden.json"));
        JsonObject golden = new JsonObject(Json.parseLenient(text), name + "/golden.json");
        assertEquals(name, golden.getString("case"));
        assertEquals(1, golden.getObject("tokenizer").getInt("pad_token_id"));
        assertEquals(50265, golden.getObject("tokenizer").getInt("vocab_size"));

        // FORMAT.md: DPM++ runs record lambda_min_clipped as -Infinity.
        List<Object> clipped = new ArrayList<>();
        collect(golden.map(), "lambda_min_clipped", clipped);
        assertFalse(clipped.isEmpty());
        assertTrue(clipped.contains(Double.NEGATIVE_INFINITY), clipped.toString());

        // Strict parsing stops at the first -Infinity, and says where.
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text));
        String line = text.lines().skip(e.line() - 1).findFirst().orElseThrow();
        assertTrue(line.startsWith("-Infinity", e.column() - 2), line + " at column " + e.column());
        int first = text.indexOf("-Infinity");
        assertEquals(text.substring(0, first).lines().count(), e.line());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-audioldm", "tiny-musicldm"})
    void goldenJsonRoundTripsThroughTheWriter(String name) throws IOException {
        Object v = Json.parseLenient(Files.readString(TestData.conformanceCase(name).resolve("golden.json")));
        assertEquals(v, Json.parseLenient(Json.write(v, Json.Format.COMPACT.withNonFinite())));
        assertEquals(v, Json.parseLenient(Json.write(v, Json.Format.PRETTY.withNonFinite())));
        assertThrows(IllegalArgumentException.class, () -> Json.write(v));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-audioldm", "tiny-musicldm"})
    void configsAreStrictJson(String name) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(TestData.conformanceCase(name))) {
            files = s.filter(p -> p.toString().endsWith(".json") && !p.endsWith("golden.json")).sorted().toList();
        }
        assertTrue(files.size() >= 8, files.toString());
        for (Path p : files) {
            Object v = Json.parse(Files.readString(p));
            assertTrue(v instanceof Map, p.toString());
            assertEquals(v, Json.parse(Json.write(v)), p.toString());
        }
    }

    private static void collect(Object v, String key, List<Object> out) {
        if (v instanceof Map<?, ?> m) {
            m.forEach((k, x) -> {
                if (k.equals(key)) {
                    out.add(x);
                }
                collect(x, key, out);
            });
        } else if (v instanceof List<?> l) {
            l.forEach(x -> collect(x, key, out));
        }
    }
}
