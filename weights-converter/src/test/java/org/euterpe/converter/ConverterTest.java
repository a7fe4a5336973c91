package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Converter} on tiny-audioldm: names, metadata, and each dtype policy against its definition. */
class ConverterTest {
    private static final List<String> COMPONENTS = List.of("unet", "vae", "text_encoder", "vocoder");
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    /** The tiny-audioldm weights file of each component, opened. */
    private static Map<String, CheckpointReader> reference() throws Exception {
        Path root = TestData.conformanceCase("tiny-audioldm");
        return Map.of(
                "unet", CheckpointReader.open(root.resolve("unet/diffusion_pytorch_model.safetensors")),
                "vae", CheckpointReader.open(root.resolve("vae/diffusion_pytorch_model.safetensors")),
                "text_encoder", CheckpointReader.open(root.resolve("text_encoder/model.safetensors")),
                "vocoder", CheckpointReader.open(root.resolve("vocoder/model.safetensors")));
    }

    @Test
    void f32FromBinFilesKeepsEveryTensorAndRecordsTheSources() throws Exception {
        Path folder = TestData.sharedOrSkip("conformance/tiny-audioldm-bin/fp32");
        Path out = tmp.resolve("tiny.safetensors");
        Converter.Report report = Converter.convert(folder, out, DType.F32);
        Map<String, CheckpointReader> ref = reference();
        try (SafetensorsFile st = SafetensorsFile.open(out)) {
            TreeSet<String> expected = new TreeSet<>();
            for (String c : COMPONENTS) {
                for (String key : ref.get(c).names()) {
                    String name = c + "." + key;
                    expected.add(name);
                    assertEquals(ref.get(c).info(key).dtype(), st.entry(name).dtype(), name);
                    assertEquals(ref.get(c).info(key).shape(), st.entry(name).shape(), name);
                    assertEquals(-1, ref.get(c).bytes(key).mismatch(st.bytes(name)), name);
                }
            }
            assertEquals(expected, new TreeSet<>(st.names()));
            assertEquals(expected.size(), report.tensors());

            Map<String, String> meta = st.metadata();
            assertEquals(Converter.FORMAT_VERSION, meta.get("euterpe.format_version"));
            assertEquals("F32", meta.get("euterpe.weight_dtype"));
            for (String f : List.of("model_index.json", "unet/config.json", "vae/config.json",
                    "text_encoder/config.json", "vocoder/config.json", "scheduler/scheduler_config.json",
                    "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/tokenizer_config.json",
                    "tokenizer/special_tokens_map.json")) {
                assertEquals(Files.readString(folder.resolve(f)), meta.get(f), f);
            }
            List<?> sources = (List<?>) Json.parse(meta.get("euterpe.sources"));
            assertEquals(report.sources().size(), sources.size());
            for (Object o : sources) {
                Map<?, ?> s = (Map<?, ?>) o;
                Path file = folder.resolve((String) s.get("path"));
                assertEquals(Sha256.of(file), s.get("sha256"));
                assertEquals(Files.size(file), ((Number) s.get("bytes")).longValue());
            }
            assertTrue(report.sources().stream().anyMatch(s -> s.path().equals("unet/diffusion_pytorch_model.bin")));
        } finally {
            ref.values().forEach(CheckpointReader::close);
        }
    }

    @Test
    void f16StoresMatricesAsHalfAndKeepsTheRestF32() throws Exception {
        Path out = tmp.resolve("tiny-f16.safetensors");
        Converter.convert(TestData.conformanceCase("tiny-audioldm"), out, DType.F16);
        forEachTensor(out, (name, key, refDtype, rank, ref, st) -> {
            if (refDtype != DType.F32) {
                assertEquals(refDtype, st.entry(name).dtype(), name);
                assertEquals(-1, ref.mismatch(st.bytes(name)), name);
            } else if (rank < 2 || WeightEncoder.isEmbeddingTable(key)) {
                assertEquals(DType.F32, st.entry(name).dtype(), name);
                assertEquals(-1, ref.mismatch(st.bytes(name)), name);
            } else {
                assertEquals(DType.F16, st.entry(name).dtype(), name);
                MemorySegment half = st.bytes(name);
                for (long i = 0; i < ref.byteSize() / 4; i++) {
                    short expected = Float.floatToFloat16(f32(ref, i));
                    if (expected != half.getAtIndex(I16, i)) {
                        assertEquals(expected, half.getAtIndex(I16, i), name + " element " + i);
                    }
                }
            }
        });
    }

    @Test
    void bf16IsTheNearestBfloatTiesToEven() throws Exception {
        Path out = tmp.resolve("tiny-bf16.safetensors");
        Converter.convert(TestData.conformanceCase("tiny-audioldm"), out, DType.BF16);
        forEachTensor(out, (name, key, refDtype, rank, ref, st) -> {
            if (st.entry(name).dtype() != DType.BF16) {
                return;
            }
            MemorySegment b = st.bytes(name);
            for (long i = 0; i < ref.byteSize() / 4; i++) {
                // The two bfloat16 neighbours of x are its bits truncated to the top 16 and the next one up.
                int x = Float.floatToRawIntBits(f32(ref, i));
                int lo = x & 0xFFFF0000;
                int hi = lo + 0x10000;
                int rest = x & 0xFFFF;
                int expected = rest < 0x8000 ? lo : rest > 0x8000 ? hi : ((lo & 0x10000) == 0 ? lo : hi);
                int actual = (b.getAtIndex(I16, i) & 0xFFFF) << 16;
                if (expected != actual) {
                    assertEquals(Integer.toHexString(expected), Integer.toHexString(actual), name + " element " + i);
                }
            }
        });
    }

    @Test
    void int8IsSymmetricPerRowWithScales() throws Exception {
        Path out = tmp.resolve("tiny-i8.safetensors");
        Converter.convert(TestData.conformanceCase("tiny-audioldm"), out, DType.I8);
        int[] quantized = {0};
        forEachTensor(out, (name, key, refDtype, rank, ref, st) -> {
            if (st.entry(name).dtype() != DType.I8) {
                return;
            }
            quantized[0]++;
            int rows = st.entry(name).shape().dim(0);
            float[] scales = st.floats(name + WeightEncoder.SCALE_SUFFIX);
            assertEquals(rows, scales.length, name);
            MemorySegment q = st.bytes(name);
            long rowLen = ref.byteSize() / 4 / rows;
            for (int r = 0; r < rows; r++) {
                float max = 0;
                for (long j = 0; j < rowLen; j++) {
                    max = Math.max(max, Math.abs(f32(ref, r * rowLen + j)));
                }
                assertEquals(max / 127f, scales[r], name + " row " + r);
                for (long j = 0; j < rowLen; j++) {
                    float w = f32(ref, r * rowLen + j);
                    int v = q.get(ValueLayout.JAVA_BYTE, r * rowLen + j);
                    // v is the integer nearest w / scale (slack for the float division), and fits [-127, 127].
                    assertTrue(Math.abs(v) <= 127 && (scales[r] == 0 ? v == 0
                            : Math.abs((double) w / scales[r] - v) <= 0.5 + 1e-5),
                            name + " [" + r + ", " + j + "]: " + v + " * " + scales[r] + " vs " + w);
                }
            }
        });
        assertTrue(quantized[0] > 0);
    }

    @FunctionalInterface
    private interface TensorCheck {
        void check(String name, String key, DType refDtype, int rank, MemorySegment ref, SafetensorsFile st);
    }

    private static void forEachTensor(Path out, TensorCheck check) throws Exception {
        Map<String, CheckpointReader> ref = reference();
        try (SafetensorsFile st = SafetensorsFile.open(out)) {
            int count = 0;
            for (String c : COMPONENTS) {
                for (String key : ref.get(c).names()) {
                    CheckpointReader.TensorInfo info = ref.get(c).info(key);
                    String name = c + "." + key;
                    assertEquals(info.shape(), st.entry(name).shape(), name);
                    check.check(name, key, info.dtype(), info.shape().rank(), ref.get(c).bytes(key), st);
                    count++;
                }
            }
            long scales = st.names().stream().filter(n -> n.endsWith(WeightEncoder.SCALE_SUFFIX)).count();
            assertEquals(count + scales, st.names().size());
        } finally {
            ref.values().forEach(CheckpointReader::close);
        }
    }

    private static float f32(MemorySegment s, long i) {
        return s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
    }
}
