package org.euterpe.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.HostStorage;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Storage;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer: round trips through the reader, the on-disk layout, and atomicity on failure. */
class SafetensorsWriterTest {
    @TempDir
    Path dir;

    /** Values exactly representable in every floating dtype (bf16 keeps 8 significant bits), so round trips are exact. */
    private static float[] exactFloats(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r.nextInt(255) - 127) / 8f; // at most 7 significant bits
        }
        return v;
    }

    private List<String> dirListing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void roundTripsEveryDtypeIncludingScalarsAndEmptyTensors() throws IOException {
        float[] f = exactFloats(6, 1);
        long[] ints = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 42};
        long[] i32 = {Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE, 7};
        long[] i8 = {-128, -1, 0, 1, 127, 5};
        Path p = dir.resolve("all.safetensors");
        new SafetensorsWriter()
                .add("f32", Shape.of(2, 3), f)
                .add("f16", DType.F16, Shape.of(3, 2), f)
                .add("bf16", DType.BF16, Shape.of(6), f)
                .add("i64", Shape.of(6), ints)
                .add("i32", DType.I32, Shape.of(2, 3), i32)
                .add("i8", DType.I8, Shape.of(6, 1), i8)
                .add("scalar_f32", Shape.of(), new float[] {523.5f})
                .add("scalar_i64", Shape.of(), new long[] {801})
                .add("scalar_bf16", DType.BF16, Shape.of(), new float[] {-2f})
                .add("empty_f32", Shape.of(0), new float[0])
                .add("empty_i8", DType.I8, Shape.of(3, 0, 2), new long[0])
                .add("empty_f16", DType.F16, Shape.of(0, 4), new float[0])
                .write(p);
        try (SafetensorsFile r = SafetensorsFile.open(p)) {
            assertEquals(12, r.names().size());
            assertEquals(new SafetensorsFile.Entry("f32", DType.F32, Shape.of(2, 3), r.entry("f32").begin(),
                    r.entry("f32").begin() + 24), r.entry("f32"));
            assertArrayEquals(f, r.floats("f32"));
            assertArrayEquals(f, r.floats("f16"));
            assertArrayEquals(f, r.floats("bf16"));
            assertEquals(DType.F16, r.entry("f16").dtype());
            assertEquals(DType.BF16, r.entry("bf16").dtype());
            assertArrayEquals(ints, r.longs("i64"));
            assertArrayEquals(i32, r.longs("i32"));
            assertArrayEquals(i8, r.longs("i8"));
            assertEquals(Shape.of(6, 1), r.entry("i8").shape());
            assertEquals(Shape.of(), r.entry("scalar_f32").shape());
            assertArrayEquals(new float[] {523.5f}, r.floats("scalar_f32"));
            assertArrayEquals(new long[] {801}, r.longs("scalar_i64"));
            assertArrayEquals(new float[] {-2f}, r.floats("scalar_bf16"));
            assertEquals(0, r.entry("empty_f32").byteSize());
            assertEquals(Shape.of(3, 0, 2), r.entry("empty_i8").shape());
            assertEquals(0, r.longs("empty_i8").length);
            assertEquals(Shape.of(0, 4), r.entry("empty_f16").shape());
        }
    }

    @Test
    void narrowsToHalfPrecisionRoundingToNearestEven() throws IOException {
        float[] v = exactFloats(16, 2);
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] * 1.0001f + 1e-3f; // no longer exact in 16 bits
        }
        Path p = dir.resolve("narrow.safetensors");
        new SafetensorsWriter().add("h", DType.F16, Shape.of(16), v).add("b", DType.BF16, Shape.of(16), v).write(p);
        // Hand-derived ties: 1 + half an ulp rounds down to the even 1.0, 1 + 1.5 ulp up to the even 1 + 2 ulp.
        float[] ties = {1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 1 + 0x1p-8f, 1 + 3 * 0x1p-8f};
        Path t = dir.resolve("ties.safetensors");
        new SafetensorsWriter().add("h", DType.F16, Shape.of(2), new float[] {ties[0], ties[1]})
                .add("b", DType.BF16, Shape.of(2), new float[] {ties[2], ties[3]}).write(t);
        try (SafetensorsFile r = SafetensorsFile.open(t)) {
            assertArrayEquals(new short[] {0x3C00, 0x3C02}, r.bytes("h").toArray(ValueLayout.JAVA_SHORT_UNALIGNED));
            assertArrayEquals(new short[] {0x3F80, 0x3F82}, r.bytes("b").toArray(ValueLayout.JAVA_SHORT_UNALIGNED));
        }
        try (SafetensorsFile r = SafetensorsFile.open(p)) {
            for (int i = 0; i < v.length; i++) {
                assertEquals(DType.f32ToF16(v[i]), r.bytes("h").getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                assertEquals(DType.f32ToBf16(v[i]), r.bytes("b").getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
            }
        }
    }

    @Test
    void largeTensorsSpanManyChunks() throws IOException {
        float[] v = new float[300_001]; // 1.2 MB, not a multiple of the staging buffer
        long[] w = new long[70_003];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.5f;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (long) i * i - 5;
        }
        MemorySegment seg = MemorySegment.ofArray(v.clone()); // a float[]-backed segment cannot be a ByteBuffer
        Path p = dir.resolve("large.safetensors");
        new SafetensorsWriter().add("v", Shape.of(v.length), v).add("w", Shape.of(w.length), w)
                .add("s", DType.F32, Shape.of(v.length), seg).write(p);
        try (SafetensorsFile r = SafetensorsFile.open(p)) {
            assertArrayEquals(v, r.floats("v"));
            assertArrayEquals(w, r.longs("w"));
            assertArrayEquals(v, r.floats("s"));
        }
    }

    @Test
    void metadataAndUnusualNamesRoundTrip() throws IOException {
        String weird = "a \"quoted\"\\name\twith\u0001control, 音, \ud83c\udfb5 and a lone \ud800";
        Path p = dir.resolve("names.safetensors");
        new SafetensorsWriter().metadata(Map.of("format", "pt")).metadata("note", "clé ✓ \n")
                .add(weird, Shape.of(1), new float[] {3f}).add("", Shape.of(1), new long[] {9}).write(p);
        try (SafetensorsFile r = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt", "note", "clé ✓ \n"), r.metadata());
            assertEquals(List.of("", weird), List.copyOf(r.names())); // the I64 first
            assertArrayEquals(new float[] {3f}, r.floats(weird));
            assertArrayEquals(new long[] {9}, r.longs(""));
        }
    }

    /**
     * What the reference implementation requires and readers assume: 8 + N is a multiple of 8, the
     * header is JSON padded with spaces, tensors tile the data area from 0 with no gaps, and each
     * begins at a multiple of its element size.
     */
    @Test
    void layoutIsPaddedContiguousAndAligned() throws IOException {
        Path p = dir.resolve("layout.safetensors");
        new SafetensorsWriter()
                .add("i8", DType.I8, Shape.of(3), new long[] {1, 2, 3})
                .add("f16", DType.F16, Shape.of(3), new float[] {1, 2, 3})
                .add("f32", Shape.of(1), new float[] {1})
                .add("i64", Shape.of(1), new long[] {1})
                .add("bf16", DType.BF16, Shape.of(1), new float[] {1})
                .write(p);
        byte[] file = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8);
        String header = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"), header);
        assertTrue(header.strip().endsWith("}"), header);
        assertTrue(header.substring(header.lastIndexOf('}') + 1).chars().allMatch(c -> c == ' '), header);
        assertTrue(header.length() - header.stripTrailing().length() < 8);

        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) Json.parse(header);
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<String, Object> e : json.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> t = (Map<String, Object>) e.getValue();
            List<?> off = (List<?>) t.get("data_offsets");
            long begin = (Long) off.get(0);
            int size = DType.fromSafetensorsName((String) t.get("dtype")).byteSize();
            assertEquals(0, begin % size, e.getKey() + " is misaligned at " + begin);
            ranges.add(new long[] {begin, (Long) off.get(1)});
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        long at = 0;
        for (long[] r : ranges) {
            assertEquals(at, r[0], "gap or overlap in the data area");
            at = r[1];
        }
        assertEquals(file.length - 8 - n, at, "data area holds exactly the tensors");
        // Stable order within an element size: f16 before bf16 as added; widest first.
        assertEquals(List.of("i64", "f32", "f16", "bf16", "i8"), List.copyOf(json.keySet()));
    }

    @Test
    void writesEngineTensorsFromHostMemoryAndThroughTheBackend() throws IOException {
        Backend backend = fakeBackend();
        float[] host = {9, 1, 2, 3, 4, 5, 6};
        short[] half = new short[4];
        for (int i = 0; i < half.length; i++) {
            half[i] = DType.f32ToF16(i - 1.5f);
        }
        // A view starting at element 1 of a host buffer: only its own bytes may be written.
        Tensor view = Tensor.borrowed(backend, HostStorage.wrap(host), 4, Shape.of(2, 3), DType.F32, null);
        Tensor f16 = Tensor.borrowed(backend, HostStorage.borrow(MemorySegment.ofArray(half), null), 0,
                Shape.of(4), DType.F16, null);
        Tensor deviceF32 = Tensor.borrowed(backend, new DeviceStorage(new float[] {0.25f, -8f}, null), 0,
                Shape.of(2), DType.F32, null);
        Tensor deviceBf16 = Tensor.borrowed(backend, new DeviceStorage(new float[] {3f, -0.5f}, null), 0,
                Shape.of(2, 1), DType.BF16, null);
        Tensor deviceI64 = Tensor.borrowed(backend, new DeviceStorage(null, new long[] {-7, 1L << 40}), 0,
                Shape.of(2), DType.I64, null);
        Path p = dir.resolve("tensors.safetensors");
        new SafetensorsWriter().add("view", view).add("f16", f16).add("dev32", deviceF32).add("devbf16", deviceBf16)
                .add("devi64", deviceI64).write(p);
        try (SafetensorsFile r = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, r.floats("view"));
            assertEquals(Shape.of(2, 3), r.entry("view").shape());
            assertArrayEquals(new float[] {-1.5f, -0.5f, 0.5f, 1.5f}, r.floats("f16"));
            assertEquals(DType.F16, r.entry("f16").dtype());
            assertArrayEquals(new float[] {0.25f, -8f}, r.floats("dev32"));
            assertArrayEquals(new float[] {3f, -0.5f}, r.floats("devbf16"));
            assertEquals(DType.BF16, r.entry("devbf16").dtype());
            assertArrayEquals(new long[] {-7, 1L << 40}, r.longs("devi64"));
        }
    }

    @Test
    void refusesI8TensorsWithoutTheirScales() {
        Backend backend = fakeBackend();
        Tensor scales = Tensor.borrowed(backend, HostStorage.wrap(new float[] {1}), 0, Shape.of(1), DType.F32, null);
        Tensor q = Tensor.borrowed(backend, HostStorage.borrow(MemorySegment.ofArray(new byte[2]), null), 0,
                Shape.of(1, 2), DType.I8, scales);
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsWriter().add("q", q));
    }

    @Test
    void overwritesAnExistingFile() throws IOException {
        Path p = dir.resolve("w.safetensors");
        new SafetensorsWriter().add("a", Shape.of(1), new float[] {1}).write(p);
        new SafetensorsWriter().add("b", Shape.of(1), new float[] {2}).write(p);
        try (SafetensorsFile r = SafetensorsFile.open(p)) {
            assertEquals(List.of("b"), List.copyOf(r.names()));
        }
        assertEquals(List.of("w.safetensors"), dirListing());
    }

    @Test
    void aFailingSourceLeavesNoTraceAndTheOldFileIntact() throws IOException {
        Path p = dir.resolve("model.safetensors");
        new SafetensorsWriter().add("old", Shape.of(1), new float[] {1}).write(p);
        byte[] before = Files.readAllBytes(p);
        SafetensorsWriter w = new SafetensorsWriter()
                .add("ok", Shape.of(100_000), new float[100_000])
                .add("bad", DType.F32, Shape.of(4), out -> {
                    out.write(ByteBuffer.allocate(8)); // half written, then the source fails
                    throw new IOException("disk on fire");
                });
        IOException e = assertThrows(IOException.class, () -> w.write(p));
        assertEquals("disk on fire", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of("model.safetensors"), dirListing());

        Path fresh = dir.resolve("fresh.safetensors");
        assertThrows(IOException.class, () -> w.write(fresh));
        assertFalse(Files.exists(fresh));
        assertEquals(List.of("model.safetensors"), dirListing());
    }

    @Test
    void aRuntimeFailureInASourceAlsoCleansUp() {
        Path p = dir.resolve("rt.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().add("x", DType.F32, Shape.of(1), out -> {
            throw new IllegalStateException("backend lost");
        });
        assertThrows(IllegalStateException.class, () -> w.write(p));
        assertFalse(Files.exists(p));
    }

    @Test
    void aSourceWritingTheWrongByteCountIsCaught() throws IOException {
        Path p = dir.resolve("count.safetensors");
        SafetensorsWriter tooFew = new SafetensorsWriter().add("x", DType.F32, Shape.of(2), out -> {
            out.write(ByteBuffer.allocate(4));
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> tooFew.write(p));
        assertTrue(e.getMessage().contains("\"x\"") && e.getMessage().contains("only 4 of its 8 bytes"),
                e.getMessage());
        SafetensorsWriter tooMany = new SafetensorsWriter().add("y", DType.I64, Shape.of(1), out -> {
            out.write(ByteBuffer.allocate(12));
        });
        e = assertThrows(IllegalStateException.class, () -> tooMany.write(p));
        assertTrue(e.getMessage().contains("more than its 8 bytes"), e.getMessage());
        assertTrue(dirListing().isEmpty(), dirListing().toString());
    }

    @Test
    void aMissingTargetFolderFailsCleanly() {
        assertThrows(IOException.class, () -> new SafetensorsWriter().add("a", Shape.of(1), new float[] {1})
                .write(dir.resolve("no/such/folder/x.safetensors")));
    }

    @Test
    void addChecksItsArguments() {
        SafetensorsWriter w = new SafetensorsWriter().add("a", Shape.of(2), new float[2]);
        assertThrows(IllegalArgumentException.class, () -> w.add("a", Shape.of(1), new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", Shape.of(1), new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.add("b", Shape.of(3), new float[2]));
        assertThrows(IllegalArgumentException.class, () -> w.add("c", Shape.of(1), new long[2]));
        assertThrows(IllegalArgumentException.class, () -> w.add("d", DType.I32, Shape.of(1), new long[] {1L << 31}));
        assertThrows(IllegalArgumentException.class, () -> w.add("e", DType.I8, Shape.of(1), new long[] {128}));
        assertThrows(IllegalArgumentException.class, () -> w.add("f", DType.I64, Shape.of(1), new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.add("g", DType.F16, Shape.of(1), new long[1]));
        assertThrows(IllegalArgumentException.class,
                () -> w.add("h", DType.F32, Shape.of(2), MemorySegment.ofArray(new byte[7])));
        assertThrows(NullPointerException.class, () -> w.metadata("k", null));
    }

    // ---------------------------------------------------------------- a backend stand-in

    /** Storage the writer cannot read directly, like device memory: values come back through the backend. */
    private record DeviceStorage(float[] floats, long[] longs) implements Storage {
        @Override
        public long byteSize() {
            return floats != null ? 4L * floats.length : 8L * longs.length;
        }

        @Override
        public boolean isClosed() {
            return false;
        }

        @Override
        public void close() {
        }
    }

    /** A backend that only answers name() and reads DeviceStorage back; anything else is a test bug. */
    private static Backend fakeBackend() {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "name" -> "fake";
                    case "toFloatArray" -> ((DeviceStorage) ((Tensor) args[0]).storage()).floats().clone();
                    case "toLongArray" -> ((DeviceStorage) ((Tensor) args[0]).storage()).longs().clone();
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
