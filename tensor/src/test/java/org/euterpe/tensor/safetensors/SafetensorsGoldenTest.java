package org.euterpe.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real files: the conformance goldens (checked against golden.json and FORMAT.md) and the tiny models' weights. */
class SafetensorsGoldenTest {
    @TempDir
    Path dir;

    private static JsonObject goldenJson(Path caseDir) throws IOException {
        return new JsonObject(Json.parseLenient(Files.readString(caseDir.resolve("golden.json"))), "golden.json");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-audioldm", "tiny-musicldm"})
    void everyTensorMatchesGoldenJson(String name) throws IOException {
        Path caseDir = TestData.conformanceCase(name);
        JsonObject tensors = goldenJson(caseDir).getObject("tensors");
        try (SafetensorsFile f = SafetensorsFile.open(caseDir.resolve("golden.safetensors"))) {
            assertEquals(Map.of("format", "pt", "case", name), f.metadata());
            assertEquals(tensors.map().keySet(), f.names());
            for (String t : f.names()) {
                JsonObject expected = tensors.getObject(t);
                DType dtype = switch (expected.getString("dtype")) {
                    case "float32" -> DType.F32;
                    case "int64" -> DType.I64;
                    default -> throw new AssertionError(expected.getString("dtype"));
                };
                assertEquals(dtype, f.entry(t).dtype(), t);
                assertEquals(Shape.of(expected.getIntArray("shape")), f.entry(t).shape(), t);
            }
        }
    }

    /** Values that FORMAT.md states, read through the public accessors. */
    @Test
    void documentedValuesOfTinyAudioldm() throws IOException {
        Path caseDir = TestData.conformanceCase("tiny-audioldm");
        try (SafetensorsFile f = SafetensorsFile.open(caseDir.resolve("golden.safetensors"))) {
            assertEquals(Shape.of(), f.entry("unet_call.0.timestep").shape());
            assertArrayEquals(new long[] {801}, f.longs("unet_call.0.timestep"));
            assertEquals(DType.F32, f.entry("unet_call.1.timestep").dtype());
            assertArrayEquals(new float[] {523.5f}, f.floats("unet_call.1.timestep"));

            long[] ids = f.longs("prompt.0.input_ids");
            long[] mask = f.longs("prompt.0.attention_mask");
            assertEquals(77, ids.length);
            assertEquals(0, ids[0], "<s> first");
            int real = 0;
            for (int i = 0; i < ids.length; i++) {
                assertTrue(mask[i] == 0 || mask[i] == 1);
                assertEquals(mask[i] == 0, ids[i] == 1, "padding id 1 exactly where the mask is 0, at " + i);
                real += (int) mask[i];
            }
            assertEquals(2, ids[real - 1], "</s> last real token");

            // "Tensors are stored by (dtype size descending, name)".
            List<SafetensorsFile.Entry> byOffset = new ArrayList<>();
            f.names().forEach(n -> byOffset.add(f.entry(n)));
            byOffset.sort(Comparator.comparingLong(SafetensorsFile.Entry::begin));
            for (int i = 1; i < byOffset.size(); i++) {
                SafetensorsFile.Entry a = byOffset.get(i - 1);
                SafetensorsFile.Entry b = byOffset.get(i);
                assertTrue(a.dtype().byteSize() > b.dtype().byteSize()
                        || a.dtype() == b.dtype() && a.name().compareTo(b.name()) < 0, a.name() + " before " + b.name());
                assertEquals(a.end(), b.begin(), "contiguous");
            }
        }
    }

    @Test
    void rewritingTheGoldenKeepsEveryByte() throws IOException {
        Path golden = TestData.conformanceCase("tiny-audioldm").resolve("golden.safetensors");
        Path copy = dir.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden)) {
            SafetensorsWriter w = new SafetensorsWriter().metadata(f.metadata());
            for (String n : f.names()) {
                SafetensorsFile.Entry e = f.entry(n);
                w.add(n, e.dtype(), e.shape(), f.bytes(n));
            }
            w.write(copy);
            try (SafetensorsFile c = SafetensorsFile.open(copy)) {
                assertEquals(f.metadata(), c.metadata());
                assertEquals(f.names(), c.names());
                for (String n : f.names()) {
                    assertEquals(f.entry(n).shape(), c.entry(n).shape());
                    assertEquals(-1L, f.bytes(n).mismatch(c.bytes(n)), n);
                }
            }
        }
    }

    /** The model weights, written by the reference (Rust) implementation, pass validation and read back finite. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-audioldm", "tiny-musicldm"})
    void modelWeightsOpen(String name) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(TestData.conformanceCase(name))) {
            files = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertEquals(5, files.size(), files.toString());
        for (Path p : files) {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertFalse(f.names().isEmpty(), p.toString());
                for (String n : f.names()) {
                    SafetensorsFile.Entry e = f.entry(n);
                    if (e.dtype().isFloating()) {
                        for (float v : f.floats(n)) {
                            assertTrue(Float.isFinite(v), p + " " + n);
                        }
                    } else {
                        assertEquals(e.shape().numel(), f.longs(n).length, p + " " + n);
                    }
                }
            }
        }
    }
}
