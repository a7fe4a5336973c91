package org.euterpe.tensor.safetensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonException;

/**
 * The validated header of a safetensors file: reads the length, decodes and parses the JSON and
 * checks every entry against the data area, so that nothing read later can fall outside the file.
 *
 * @param dataStart byte offset of the data area in the file (8 + header length)
 * @param entries   tensor entries in header order
 * @param metadata  the {@code __metadata__} map, empty when absent
 */
record SafetensorsHeader(long dataStart, Map<String, SafetensorsFile.Entry> entries, Map<String, String> metadata) {
    /** Header size limit (the reference implementation's), so a hostile length cannot exhaust memory. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /** Real safetensors dtype names the engine has no {@link DType} for. */
    private static final Set<String> UNSUPPORTED_DTYPES = Set.of("BOOL", "U8", "I16", "U16", "U32", "U64", "F64",
            "C64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4");

    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Parses and validates the header at the start of {@code file}'s bytes {@code map}. */
    static SafetensorsHeader read(Path file, MemorySegment map) {
        long size = map.byteSize();
        if (size < 8) {
            throw new HeaderLengthException(file, null,
                    "file of " + size + " bytes is too short for the 8-byte header length");
        }
        long n = map.get(U64_LE, 0);
        // Unsigned: a length with the top bit set is a huge value, not a negative one.
        if (Long.compareUnsigned(n, size - 8) > 0) {
            throw new HeaderLengthException(file, null, "header length " + Long.toUnsignedString(n)
                    + " exceeds the " + (size - 8) + " bytes after the length field (truncated or not safetensors?)");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new HeaderLengthException(file, null,
                    "header length " + n + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        Object parsed;
        try {
            parsed = Json.parse(decodeUtf8(file, map.asSlice(8, n)));
        } catch (JsonException e) {
            throw new HeaderJsonException(file, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> top)) {
            throw new HeaderJsonException(file, null, "header is " + describe(parsed) + ", not a JSON object");
        }
        long dataSize = size - 8 - n;
        Map<String, SafetensorsFile.Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(file, e.getValue());
            } else {
                entries.put(name, entry(file, name, e.getValue(), dataSize));
            }
        }
        checkOverlaps(file, entries.values());
        return new SafetensorsHeader(8 + n, Collections.unmodifiableMap(entries), metadata);
    }

    /** Strict UTF-8 (a lenient decoder would silently turn bad bytes into U+FFFD in tensor names). */
    private static String decodeUtf8(Path file, MemorySegment bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = bytes.asByteBuffer();
        CharBuffer out = CharBuffer.allocate(in.remaining()); // UTF-8 never has fewer bytes than UTF-16 units
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            throw new HeaderEncodingException(file, null,
                    "header is not valid UTF-8: malformed byte sequence at header byte " + in.position());
        }
        return out.flip().toString();
    }

    private static Map<String, String> metadata(Path file, Object value) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new MetadataException(file, null, METADATA_KEY + " is " + describe(value) + ", not an object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new MetadataException(file, null, METADATA_KEY + " value of \"" + e.getKey() + "\" is "
                        + describe(e.getValue()) + ", not a string");
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static SafetensorsFile.Entry entry(Path file, String name, Object value, long dataSize) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new MalformedEntryException(file, name, "entry is " + describe(value) + ", not an object");
        }
        if (!(m.get("dtype") instanceof String dtypeName)) {
            throw new MalformedEntryException(file, name, "\"dtype\" is " + describe(m.get("dtype"))
                    + ", not a string");
        }
        DType dtype = dtype(file, name, dtypeName);
        long[] dims = integers(file, name, m, "shape");
        for (long d : dims) {
            if (d > Integer.MAX_VALUE) {
                throw new MalformedEntryException(file, name, "dimension " + d + " in shape " + Arrays.toString(dims)
                        + " exceeds " + Integer.MAX_VALUE);
            }
        }
        long[] offsets = integers(file, name, m, "data_offsets");
        if (offsets.length != 2) {
            throw new MalformedEntryException(file, name, "\"data_offsets\" " + Arrays.toString(offsets)
                    + " should be [begin, end]");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new BadOffsetsException(file, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataSize) {
            throw new BadOffsetsException(file, name, "data_offsets [" + begin + ", " + end
                    + "] reach beyond the data area of " + dataSize + " bytes (truncated file?)");
        }
        long expected;
        try {
            long numel = 1;
            for (long d : dims) {
                numel = Math.multiplyExact(numel, d);
            }
            expected = Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new ShapeSizeMismatchException(file, name, "shape " + Arrays.toString(dims) + " of " + dtype
                    + " needs more than 2^63 bytes");
        }
        if (expected != end - begin) {
            throw new ShapeSizeMismatchException(file, name, "shape " + Arrays.toString(dims) + " of " + dtype
                    + " needs " + expected + " bytes but data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin));
        }
        return new SafetensorsFile.Entry(name, dtype, Shape.of(dims), begin, end);
    }

    private static DType dtype(Path file, String tensor, String name) {
        DType d = DType.fromSafetensorsName(name);
        if (d != null) {
            return d;
        }
        if (UNSUPPORTED_DTYPES.contains(name)) {
            throw new UnsupportedDTypeException(file, tensor, "unsupported dtype " + name
                    + " (the engine reads F32, F16, BF16, I8, I32, I64)");
        }
        throw new UnknownDTypeException(file, tensor, "unknown dtype " + Json.write(name));
    }

    /** A list of non-negative JSON integers. */
    private static long[] integers(Path file, String tensor, Map<?, ?> entry, String key) {
        if (!(entry.get(key) instanceof List<?> list)) {
            throw new MalformedEntryException(file, tensor, "\"" + key + "\" is " + describe(entry.get(key))
                    + ", not a list");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            // The parser yields Long exactly for integer literals that fit; 2.0, 1e3 or 2^64 are Doubles.
            if (!(list.get(i) instanceof Long v) || v < 0) {
                throw new MalformedEntryException(file, tensor, "\"" + key + "\" element " + i + " is "
                        + describe(list.get(i)) + ", not a non-negative integer");
            }
            out[i] = v;
        }
        return out;
    }

    /** Non-empty tensors sorted by offset must each begin at or after the previous one's end. */
    private static void checkOverlaps(Path file, Iterable<SafetensorsFile.Entry> entries) {
        List<SafetensorsFile.Entry> sorted = new ArrayList<>();
        for (SafetensorsFile.Entry e : entries) {
            if (e.byteSize() > 0) { // an empty tensor occupies no bytes, wherever it points
                sorted.add(e);
            }
        }
        sorted.sort(Comparator.comparingLong(SafetensorsFile.Entry::begin).thenComparingLong(SafetensorsFile.Entry::end));
        for (int i = 1; i < sorted.size(); i++) {
            SafetensorsFile.Entry prev = sorted.get(i - 1);
            SafetensorsFile.Entry cur = sorted.get(i);
            if (cur.begin() < prev.end()) {
                throw new OverlapException(file, cur.name(), "bytes [" + cur.begin() + ", " + cur.end()
                        + ") overlap tensor \"" + prev.name() + "\" at [" + prev.begin() + ", " + prev.end() + ")");
            }
        }
    }

    /** A short description of a parsed JSON value for error messages. */
    private static String describe(Object v) {
        String kind = switch (v) {
            case null -> "missing or null";
            case Map<?, ?> _ -> "an object";
            case List<?> _ -> "a list";
            case String s -> "the string " + Json.write(s);
            default -> v.toString();
        };
        return kind.length() > 80 ? kind.substring(0, 77) + "..." : kind;
    }
}
