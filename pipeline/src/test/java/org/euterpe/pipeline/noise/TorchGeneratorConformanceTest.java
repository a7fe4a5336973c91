package org.euterpe.pipeline.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every record of the torch-randn goldens (torch 1.13 CPU, AVX2) must be reproduced bit for bit.
 * Records named {@code ...draw_K...} are the K-th call on one shared generator; all others are the
 * first call on a freshly seeded one.
 */
class TorchGeneratorConformanceTest {
    private static final Pattern DRAW = Pattern.compile("\\.draw_(\\d+)");

    private record Entry(String name, String op, long seed, Shape shape) {
    }

    private static Path dir() {
        // In-repo copy under pipeline/src/test/conformance first, ../shared otherwise.
        return TestData.conformanceCase("torch-randn");
    }

    @SuppressWarnings("unchecked")
    private static List<Entry> entries() throws IOException {
        Map<String, Object> doc = (Map<String, Object>) Json.parseLenient(Files.readString(dir().resolve("randn.json")));
        List<Entry> out = new ArrayList<>();
        for (Object o : (List<Object>) doc.get("entries")) {
            Map<String, Object> e = (Map<String, Object>) o;
            assertEquals("float32", e.get("dtype"), "dtype of " + e.get("name"));
            List<Object> dims = (List<Object>) e.get("shape");
            long[] shape = dims.stream().mapToLong(d -> ((Number) d).longValue()).toArray();
            out.add(new Entry((String) e.get("name"), (String) e.get("op"), ((Number) e.get("seed")).longValue(),
                    Shape.of(shape)));
        }
        return out;
    }

    /** Groups records by generator: one group per fresh record, one per draw sequence, in draw order. */
    private static Map<String, List<Entry>> byGenerator(List<Entry> entries) {
        Map<String, List<Entry>> groups = new LinkedHashMap<>();
        for (Entry e : entries) {
            Matcher m = DRAW.matcher(e.name());
            String key = m.find() ? e.name().substring(0, m.start()) : e.name();
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(e);
        }
        for (List<Entry> g : groups.values()) {
            g.sort(Comparator.comparingInt(TorchGeneratorConformanceTest::drawIndex));
        }
        return groups;
    }

    private static int drawIndex(Entry e) {
        Matcher m = DRAW.matcher(e.name());
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    @Test
    void everyTensorInTheFileIsDescribed() throws IOException {
        Set<String> described = new TreeSet<>();
        entries().forEach(e -> described.add(e.name()));
        try (SafetensorsFile f = SafetensorsFile.open(dir().resolve("randn.safetensors"))) {
            assertEquals(new TreeSet<>(f.names()), described);
        }
        assertTrue(described.size() >= 60, "expected the full golden set, found " + described.size());
    }

    @TestFactory
    Stream<DynamicTest> reproducesEveryRecordBitExactly() throws IOException {
        Map<String, List<Entry>> groups = byGenerator(entries());
        SafetensorsFile f = SafetensorsFile.open(dir().resolve("randn.safetensors"));
        return groups.entrySet().stream()
                .map(g -> DynamicTest.dynamicTest(g.getKey(), () -> checkGroup(f, g.getValue())))
                .onClose(f::close);
    }

    private static void checkGroup(SafetensorsFile f, List<Entry> draws) {
        TorchGenerator gen = new TorchGenerator(draws.getFirst().seed());
        for (Entry e : draws) {
            assertEquals(draws.getFirst().seed(), e.seed(), "one generator, one seed: " + e.name());
            float[] actual = switch (e.op()) {
                case "randn" -> gen.randn(e.shape());
                case "rand" -> gen.rand(e.shape());
                default -> throw new IllegalStateException("unknown op " + e.op() + " in " + e.name());
            };
            float[] expected = f.floats(e.name());
            assertEquals(expected.length, actual.length, e.name());
            int mismatches = 0;
            int first = -1;
            double maxErr = 0;
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                    mismatches++;
                    first = first < 0 ? i : first;
                    maxErr = Math.max(maxErr, Math.abs((double) expected[i] - actual[i]));
                }
            }
            if (mismatches > 0) {
                fail(e.name() + ": " + mismatches + " of " + expected.length + " values differ, max |err| " + maxErr
                        + ", first at " + first + " (expected " + expected[first] + ", got " + actual[first] + ")");
            }
        }
    }
}
