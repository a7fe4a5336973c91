package org.euterpe.tensor.safetensors;

import static org.euterpe.tensor.safetensors.SafetensorsBytes.entry;
import static org.euterpe.tensor.safetensors.SafetensorsBytes.file;
import static org.euterpe.tensor.safetensors.SafetensorsBytes.raw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.json.JsonException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader: every malformed case gets its own exception type and a message naming file, tensor and problem. */
class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** Opening {@code p} fails with exactly {@code type}, naming the file and every fragment. */
    private static <T extends SafetensorsException> T rejects(Class<T> type, Path p, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p).close());
        assertEquals(type, e.getClass(), e.getMessage());
        assertEquals(p, e.file());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "\"" + e.getMessage() + "\" should mention \"" + f + "\"");
        }
        return type.cast(e);
    }

    private static byte[] le(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    // ---------------------------------------------------------------- valid files

    @Test
    void readsAHandBuiltFile() throws IOException {
        // "b" first in the data, "a" second; header padded with spaces as writers do.
        String json = "{\"__metadata__\":{\"format\":\"pt\"}," + entry("a", "F32", "[2]", "[8,16]") + ","
                + entry("b", "I32", "[2]", "[0,8]") + "}    ";
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(7).putInt(-3).putFloat(1.5f).putFloat(-2.25f);
        Path p = file(dir, "ok.safetensors", json, data.array());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("a", "b"), List.copyOf(f.names()));
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(new SafetensorsFile.Entry("a", DType.F32, Shape.of(2), 8, 16), f.entry("a"));
            assertArrayEquals(new float[] {1.5f, -2.25f}, f.floats("a"));
            assertArrayEquals(new long[] {7, -3}, f.longs("b"));
            assertArrayEquals(new float[] {7, -3}, f.floats("b"));
            assertEquals(8, f.bytes("a").byteSize());
        }
    }

    @Test
    void emptyHeaderObjectIsAFileWithNoTensors() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file(dir, "empty.safetensors", "{}", 0))) {
            assertTrue(f.names().isEmpty());
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void toleratesGapsAndEmptyTensorsAnywhereInTheDataArea() throws IOException {
        String json = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("gap", "F32", "[1]", "[8,12]") + ","
                + entry("none", "F32", "[0,3]", "[2,2]") + "}";
        try (SafetensorsFile f = SafetensorsFile.open(file(dir, "gaps.safetensors", json, le(1, 2, 3, 4)))) {
            assertArrayEquals(new float[] {3}, f.floats("gap"));
            assertEquals(0, f.floats("none").length);
            assertEquals(Shape.of(0, 3), f.entry("none").shape());
        }
    }

    // ---------------------------------------------------------------- the file itself

    @Test
    void missingFileIsNoSuchFileException() {
        Path p = dir.resolve("absent.safetensors");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("absent.safetensors"));
    }

    @Test
    void directoryIsFileSystemException() {
        FileSystemException e = assertThrows(FileSystemException.class, () -> SafetensorsFile.open(dir));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    // ---------------------------------------------------------------- header length

    @Test
    void emptyFile() throws IOException {
        Path p = Files.write(dir.resolve("zero.safetensors"), new byte[0]);
        rejects(HeaderLengthException.class, p, "0 bytes", "too short");
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path p = Files.write(dir.resolve("seven.safetensors"), new byte[7]);
        rejects(HeaderLengthException.class, p, "7 bytes", "too short");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.US_ASCII);
        rejects(HeaderLengthException.class, raw(dir, "long.safetensors", 3, h, new byte[0]),
                "header length 3", "exceeds the 2 bytes");
    }

    @Test
    void headerLengthWithTheTopBitSetIsHugeNotNegative() throws IOException {
        Path p = raw(dir, "neg.safetensors", -8L, "{}      ".getBytes(StandardCharsets.US_ASCII), new byte[0]);
        rejects(HeaderLengthException.class, p, "header length " + Long.toUnsignedString(-8L));
    }

    @Test
    void headerLengthOverTheLimitIsRefusedBeforeReading() throws IOException {
        long n = SafetensorsHeader.MAX_HEADER_BYTES + 8;
        Path p = raw(dir, "huge.safetensors", n, new byte[0], new byte[0]);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(8 + n); // sparse: the header "exists" but is never read
        }
        rejects(HeaderLengthException.class, p, "header length " + n, "limit");
    }

    // ---------------------------------------------------------------- header text

    @Test
    void malformedUtf8() throws IOException {
        byte[] h = "{\"a\u00ff\":1}".getBytes(StandardCharsets.ISO_8859_1);
        rejects(HeaderEncodingException.class, raw(dir, "ff.safetensors", h.length, h, new byte[0]),
                "not valid UTF-8", "header byte 3");
    }

    @Test
    void overlongUtf8EncodingIsMalformed() throws IOException {
        // 0xC0 0xA2 is an overlong '"': a lenient decoder could turn it into a quote.
        byte[] h = {'{', '"', 'a', (byte) 0xC0, (byte) 0xA2, '"', ':', '1', '}'};
        rejects(HeaderEncodingException.class, raw(dir, "overlong.safetensors", h.length, h, new byte[0]),
                "header byte 3");
    }

    @Test
    void utf8EncodedSurrogateIsMalformed() throws IOException {
        byte[] h = {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', ':', '1', '}'};
        rejects(HeaderEncodingException.class, raw(dir, "surrogate.safetensors", h.length, h, new byte[0]),
                "header byte 2");
    }

    @Test
    void utf8SequenceCutByTheHeaderEnd() throws IOException {
        byte[] h = {'{', '}', ' ', (byte) 0xE2, (byte) 0x82};
        rejects(HeaderEncodingException.class, raw(dir, "cut.safetensors", h.length, h, new byte[0]),
                "header byte 3");
    }

    @Test
    void headerJsonSyntaxErrorCarriesThePosition() throws IOException {
        Path p = file(dir, "syntax.safetensors", "{\"a\":{\"dtype\":\"F32\",}}", 0);
        HeaderJsonException e = rejects(HeaderJsonException.class, p, "not valid JSON", "column 21");
        JsonException cause = assertInstanceOf(JsonException.class, e.getCause());
        assertEquals(21, cause.column());
    }

    @Test
    void headerIsNotAnObject() throws IOException {
        rejects(HeaderJsonException.class, file(dir, "list.safetensors", "[1,2]", 0), "a list, not a JSON object");
    }

    @Test
    void emptyHeader() throws IOException {
        rejects(HeaderJsonException.class, raw(dir, "blank.safetensors", 0, new byte[0], new byte[0]),
                "end of input");
    }

    @Test
    void nonFiniteNumbersAreNotAcceptedInTheHeader() throws IOException {
        rejects(HeaderJsonException.class, file(dir, "nan.safetensors", "{\"__metadata__\":NaN}", 0), "NaN");
    }

    @Test
    void duplicateTensorName() throws IOException {
        String json = "{" + entry("w", "F32", "[1]", "[0,4]") + "," + entry("w", "F32", "[1]", "[4,8]") + "}";
        rejects(HeaderJsonException.class, file(dir, "dup.safetensors", json, 8), "duplicate key \"w\"");
    }

    // ---------------------------------------------------------------- entries

    @Test
    void entryIsNotAnObject() throws IOException {
        MalformedEntryException e = rejects(MalformedEntryException.class,
                file(dir, "e.safetensors", "{\"w\":[1,2]}", 0), "tensor \"w\"", "a list, not an object");
        assertEquals("w", e.tensor());
    }

    @Test
    void dtypeMissing() throws IOException {
        rejects(MalformedEntryException.class,
                file(dir, "nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor \"w\"", "\"dtype\" is missing");
    }

    @Test
    void dtypeNotAString() throws IOException {
        rejects(MalformedEntryException.class, file(dir, "dtype.safetensors",
                "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "\"dtype\" is 4, not a string");
    }

    @Test
    void shapeNotAList() throws IOException {
        rejects(MalformedEntryException.class, file(dir, "shape.safetensors", "{" + entry("w", "F32", "3", "[0,12]")
                + "}", 12), "tensor \"w\"", "\"shape\" is 3, not a list");
    }

    @Test
    void shapeWithANegativeDimension() throws IOException {
        rejects(MalformedEntryException.class, file(dir, "neg.safetensors", "{" + entry("w", "F32", "[2,-1]", "[0,8]")
                + "}", 8), "\"shape\" element 1 is -1, not a non-negative integer");
    }

    @Test
    void shapeWithAFractionalOrFloatDimension() throws IOException {
        rejects(MalformedEntryException.class, file(dir, "frac.safetensors", "{" + entry("w", "F32", "[2.5]", "[0,8]")
                + "}", 8), "element 0 is 2.5");
        rejects(MalformedEntryException.class, file(dir, "float.safetensors", "{" + entry("w", "F32", "[2.0]", "[0,8]")
                + "}", 8), "element 0 is 2.0");
    }

    @Test
    void shapeWithADimensionBeyondInt() throws IOException {
        rejects(MalformedEntryException.class, file(dir, "big.safetensors", "{"
                + entry("w", "I8", "[4294967296,0]", "[0,0]") + "}", 0), "dimension 4294967296");
    }

    @Test
    void dataOffsetsNotAPair() throws IOException {
        rejects(MalformedEntryException.class, file(dir, "three.safetensors", "{" + entry("w", "F32", "[1]", "[0,4,8]")
                + "}", 8), "\"data_offsets\" [0, 4, 8] should be [begin, end]");
        rejects(MalformedEntryException.class, file(dir, "absent.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "\"data_offsets\" is missing");
        rejects(MalformedEntryException.class, file(dir, "str.safetensors", "{"
                + entry("w", "F32", "[1]", "[\"0\",4]") + "}", 4), "element 0 is the string \"0\"");
    }

    @Test
    void unsupportedRealDtype() throws IOException {
        for (String dt : List.of("F64", "I16", "U8", "BOOL")) {
            rejects(UnsupportedDTypeException.class, file(dir, dt + ".safetensors", "{"
                    + entry("w", dt, "[1]", "[0,8]") + "}", 8), "tensor \"w\"", "unsupported dtype " + dt);
        }
    }

    @Test
    void unknownDtype() throws IOException {
        for (String dt : List.of("F33", "f32", "")) {
            rejects(UnknownDTypeException.class, file(dir, "unknown.safetensors", "{"
                    + entry("w", dt, "[1]", "[0,4]") + "}", 4), "tensor \"w\"", "unknown dtype \"" + dt + "\"");
        }
    }

    // ---------------------------------------------------------------- offsets and sizes

    @Test
    void offsetsEndingBeforeTheyBegin() throws IOException {
        rejects(BadOffsetsException.class, file(dir, "rev.safetensors", "{" + entry("w", "F32", "[1]", "[8,4]")
                + "}", 8), "tensor \"w\"", "[8, 4] end before they begin");
    }

    @Test
    void offsetsBeyondTheDataArea() throws IOException {
        BadOffsetsException e = rejects(BadOffsetsException.class, file(dir, "trunc.safetensors", "{"
                + entry("w", "F32", "[3]", "[0,12]") + "}", 8), "tensor \"w\"", "beyond the data area of 8 bytes");
        assertEquals(BadOffsetsException.class, e.getClass());
    }

    @Test
    void overlappingTensorsNameBoth() throws IOException {
        String json = "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}";
        OverlapException e = rejects(OverlapException.class, file(dir, "overlap.safetensors", json, 12),
                "tensor \"b\"", "[4, 12)", "overlap tensor \"a\" at [0, 8)");
        assertInstanceOf(BadOffsetsException.class, e);
    }

    @Test
    void overlapIsFoundWhateverTheHeaderOrder() throws IOException {
        // Header order c, a, b; by offset a=[0,8) b=[16,24) c=[20,28): c overlaps b.
        String json = "{" + entry("c", "F32", "[2]", "[20,28]") + "," + entry("a", "F32", "[2]", "[0,8]") + ","
                + entry("b", "F32", "[2]", "[16,24]") + "}";
        rejects(OverlapException.class, file(dir, "order.safetensors", json, 28), "tensor \"c\"", "tensor \"b\"");
    }

    @Test
    void identicalRangesOverlap() throws IOException {
        String json = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "I32", "[1]", "[0,4]") + "}";
        rejects(OverlapException.class, file(dir, "same.safetensors", json, 4), "overlap");
    }

    @Test
    void shapeAndByteRangeDisagree() throws IOException {
        rejects(ShapeSizeMismatchException.class, file(dir, "size.safetensors", "{"
                + entry("w", "F32", "[2,3]", "[0,20]") + "}", 24), "tensor \"w\"",
                "shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20");
    }

    @Test
    void scalarNeedsOneElement() throws IOException {
        rejects(ShapeSizeMismatchException.class, file(dir, "scalar.safetensors", "{"
                + entry("t", "I64", "[]", "[0,0]") + "}", 8), "shape [] of I64 needs 8 bytes");
    }

    @Test
    void shapeWhoseByteCountOverflows() throws IOException {
        rejects(ShapeSizeMismatchException.class, file(dir, "overflow.safetensors", "{"
                + entry("w", "F32", "[2147483647,2147483647,4]", "[0,0]") + "}", 0), "more than 2^63 bytes");
        // numel fits in a long but the byte count does not
        rejects(ShapeSizeMismatchException.class, file(dir, "overflow2.safetensors", "{"
                + entry("w", "I64", "[2147483647,2147483647,2]", "[0,0]") + "}", 0), "more than 2^63 bytes");
    }

    // ---------------------------------------------------------------- metadata

    @Test
    void metadataNotAnObject() throws IOException {
        rejects(MetadataException.class, file(dir, "meta.safetensors", "{\"__metadata__\":[\"pt\"]}", 0),
                "__metadata__ is a list, not an object");
    }

    @Test
    void metadataValueNotAString() throws IOException {
        rejects(MetadataException.class, file(dir, "meta2.safetensors",
                "{\"__metadata__\":{\"format\":\"pt\",\"step\":3}}", 0), "value of \"step\" is 3, not a string");
    }

    // ---------------------------------------------------------------- access

    @Test
    void unknownTensorName() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file(dir, "x.safetensors", "{}", 0))) {
            NoSuchTensorException e = assertThrows(NoSuchTensorException.class, () -> f.floats("nope"));
            assertEquals("nope", e.tensor());
            assertTrue(e.getMessage().contains("x.safetensors: tensor \"nope\": no such tensor"), e.getMessage());
        }
    }

    @Test
    void wrongAccessorForTheDtype() throws IOException {
        String json = "{" + entry("f", "F32", "[1]", "[0,4]") + "," + entry("q", "I8", "[4]", "[4,8]") + "}";
        try (SafetensorsFile f = SafetensorsFile.open(file(dir, "acc.safetensors", json,
                new byte[] {0, 0, (byte) 0x80, 0x3F, -128, -1, 0, 127}))) {
            assertThrows(SafetensorsException.class, () -> f.longs("f"));
            assertThrows(SafetensorsException.class, () -> f.floats("q"));
            assertArrayEquals(new long[] {-128, -1, 0, 127}, f.longs("q"));
            assertArrayEquals(new float[] {1f}, f.floats("f"));
        }
    }

    @Test
    void accessAfterCloseIsIllegalState() throws IOException {
        Path p = file(dir, "closed.safetensors", "{" + entry("w", "F32", "[2]", "[0,8]") + "}", le(1, 2));
        SafetensorsFile f = SafetensorsFile.open(p);
        MemorySegment before = f.bytes("w");
        f.close();
        f.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> f.bytes("w"));
        assertThrows(IllegalStateException.class, () -> f.floats("w"));
        assertThrows(IllegalStateException.class, () -> f.longs("w"));
        assertThrows(IllegalStateException.class, () -> before.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
        // The header stays readable.
        assertEquals(Shape.of(2), f.entry("w").shape());
        assertNull(f.metadata().get("format"));
    }
}
