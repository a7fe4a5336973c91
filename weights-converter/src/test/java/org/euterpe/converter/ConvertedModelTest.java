package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.nn.ModelLoadException;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ConvertedModel}: the in-memory conversion is the file conversion without the file (same
 * names, dtypes, shapes, bytes and metadata), and {@link Precision}'s "as stored" and per-component
 * overrides do what they say.
 */
class ConvertedModelTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"F32", "BF16", "I8"})
    void inMemoryEqualsTheWrittenFile(String dtype) throws Exception {
        Path folder = TestData.conformanceCase("tiny-audioldm");
        Precision p = Precision.of(DType.valueOf(dtype));
        Path out = tmp.resolve("tiny.safetensors");
        Converter.convert(folder, out, p);
        try (SafetensorsFile file = SafetensorsFile.open(out); ConvertedModel mem = ConvertedModel.open(folder, p)) {
            assertEquals(List.copyOf(file.names()).stream().sorted().toList(),
                    List.copyOf(mem.names()).stream().sorted().toList());
            for (String name : file.names()) {
                assertEquals(file.entry(name).dtype(), mem.entry(name).dtype(), name);
                assertEquals(file.entry(name).shape(), mem.entry(name).shape(), name);
                assertEquals(-1, file.bytes(name).mismatch(mem.bytes(name)), name);
            }
            Map<String, String> expected = new HashMap<>(file.metadata());
            expected.remove(Converter.SOURCES_KEY);
            assertEquals(expected, mem.metadata());
        }
    }

    @Test
    void asStoredKeepsHalfWeightsHalfAndWidensTheRest() throws Exception {
        Path fp16 = TestData.sharedOrSkip("conformance/tiny-audioldm-bin/fp16");
        try (ConvertedModel mem = ConvertedModel.open(fp16, Precision.AS_STORED);
                CheckpointReader src = CheckpointReader.open(fp16.resolve("unet/diffusion_pytorch_model.bin"))) {
            int half = 0;
            for (String key : src.names()) {
                CheckpointReader.TensorInfo info = src.info(key);
                String name = "unet." + key;
                MemorySegment want = src.bytes(key);
                MemorySegment got = mem.bytes(name);
                if (info.shape().rank() >= 2 && !WeightEncoder.isEmbeddingTable(key)) {
                    assertEquals(DType.F16, mem.entry(name).dtype(), name);
                    assertEquals(-1, want.mismatch(got), name);
                    half++;
                } else {
                    assertEquals(DType.F32, mem.entry(name).dtype(), name);
                    for (long i = 0; i < info.shape().numel(); i++) {
                        assertEquals(Float.float16ToFloat(want.getAtIndex(I16, i)), got.getAtIndex(F32, i), name);
                    }
                }
            }
            assertTrue(half > 0);
            assertEquals("as stored", mem.metadata().get(Converter.WEIGHT_DTYPE_KEY));
        }
    }

    @Test
    void aComponentOverrideKeepsThatComponentF32() throws Exception {
        Path folder = TestData.conformanceCase("tiny-audioldm");
        Precision p = Precision.of(DType.I8).with("vocoder", DType.F32);
        try (ConvertedModel mem = ConvertedModel.open(folder, p)) {
            boolean unetI8 = false;
            for (String name : mem.names()) {
                DType d = mem.entry(name).dtype();
                if (name.startsWith("vocoder.")) {
                    assertEquals(DType.F32, d, name);
                    assertFalse(name.endsWith(Converter.SCALE_SUFFIX), name);
                }
                unetI8 |= name.startsWith("unet.") && d == DType.I8;
            }
            assertTrue(unetI8);
            assertEquals(Map.of("vocoder", "F32"), Json.parse(mem.metadata().get(Converter.OVERRIDES_KEY)));
            assertEquals("I8", mem.metadata().get(Converter.WEIGHT_DTYPE_KEY));
        }
    }

    @Test
    void anAbsentTensorIsNamed() throws Exception {
        try (ConvertedModel mem = ConvertedModel.open(TestData.conformanceCase("tiny-audioldm"), Precision.AS_STORED)) {
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> mem.entry("unet.nope"));
            assertTrue(e.getMessage().contains("unet.nope"), e.getMessage());
        }
    }

    @Test
    void theConverterNeverWritesIntoTheModelFolder() throws Exception {
        Path copy = tmp.resolve("model");
        Files.createDirectories(copy);
        Files.writeString(copy.resolve("model_index.json"), "{\"_class_name\": \"AudioLDMPipeline\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(copy, copy.resolve("sub/model.safetensors"), DType.F32));
        assertTrue(e.getMessage().contains("inside the model folder"), e.getMessage());
        try (var files = Files.list(copy)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void precisionParsesCliNamesAndRefusesOthers() {
        assertEquals(DType.F16, Precision.parseDType("fp16"));
        assertEquals(DType.BF16, Precision.parseDType("BF16"));
        assertEquals(DType.I8, Precision.parseDType("int8"));
        assertThrows(IllegalArgumentException.class, () -> Precision.parseDType("int4"));
        assertThrows(IllegalArgumentException.class, () -> Precision.of(DType.I64));
        assertEquals("I8 (vocoder: F32)", Precision.of(DType.I8).with("vocoder", DType.F32).describe());
    }
}
