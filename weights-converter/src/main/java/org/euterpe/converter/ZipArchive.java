package org.euterpe.converter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A ZIP archive read from a read-only memory mapping, for the {@code torch.save} format: entry
 * data is handed out as zero-copy slices of the mapping, so storages of any size (ZIP64, over
 * 2 GB) cost no heap.
 *
 * <p>Only the central directory is trusted for the entry list; each entry's local header is read
 * just to find where its data starts. Every offset and size is checked against the file before it
 * is used, so a truncated or lying archive fails with a {@link CheckpointException} instead of
 * reading out of bounds. Only stored (uncompressed) entries can be read: {@code torch.save} writes
 * nothing else, and inflating would defeat the zero-copy mapping.
 */
public final class ZipArchive implements AutoCloseable {
    /** One central-directory entry. {@code dataOffset} is the absolute file offset of its data. */
    public record Entry(String name, int method, int flags, long crc32, long compressedSize, long size,
            long dataOffset) {
        public boolean encrypted() {
            return (flags & 1) != 0;
        }
    }

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final int EOCD_SIG = 0x06054b50;
    private static final int EOCD_LEN = 22;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_LOCATOR_LEN = 20;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int ZIP64_EOCD_LEN = 56;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int CENTRAL_LEN = 46;
    private static final int LOCAL_SIG = 0x04034b50;
    private static final int LOCAL_LEN = 30;
    private static final int ZIP64_EXTRA_ID = 0x0001;
    private static final long U32_MAX = 0xFFFFFFFFL;

    private final Path path;
    private final Arena arena;
    private final MemorySegment map;
    private final Map<String, Entry> entries;

    private ZipArchive(Path path, Arena arena, MemorySegment map) {
        this.path = path;
        this.arena = arena;
        this.map = map;
        this.entries = Collections.unmodifiableMap(readCentralDirectory());
    }

    /** Maps {@code path} and reads its central directory. */
    public static ZipArchive open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new ZipArchive(path, arena, map);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** Entries by name, in central-directory order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** The entry named {@code name}, or null. */
    public Entry entry(String name) {
        return entries.get(name);
    }

    /** The data of a stored entry: a zero-copy slice of the mapping. */
    public MemorySegment data(Entry e) {
        if (e.encrypted()) {
            throw corrupt("entry \"" + e.name() + "\" is encrypted, which is not supported");
        }
        if (e.method() != 0) {
            throw corrupt("entry \"" + e.name() + "\" is compressed with " + methodName(e.method())
                    + "; only stored (uncompressed, method 0) entries are supported, as torch.save writes them");
        }
        return map.asSlice(e.dataOffset(), e.size());
    }

    /** Checks a stored entry's CRC-32 against the central directory (touches every byte). */
    public void verifyCrc(Entry e) {
        MemorySegment data = data(e);
        CRC32 crc = new CRC32();
        long chunk = 1L << 30; // ByteBuffer views are int-indexed
        for (long pos = 0; pos < data.byteSize(); pos += chunk) {
            crc.update(data.asSlice(pos, Math.min(chunk, data.byteSize() - pos)).asByteBuffer());
        }
        if (crc.getValue() != e.crc32()) {
            throw corrupt("entry \"" + e.name() + "\" fails its CRC-32 check (stored "
                    + Long.toHexString(e.crc32()) + ", computed " + Long.toHexString(crc.getValue())
                    + "): the file is corrupt");
        }
    }

    private Map<String, Entry> readCentralDirectory() {
        long size = map.byteSize();
        long eocd = findEndOfCentralDirectory();
        long count = u16(eocd + 10);
        long cdSize = u32(eocd + 12);
        long cdOffset = u32(eocd + 16);
        if (u16(eocd + 4) != 0 || u16(eocd + 6) != 0) {
            throw corrupt("multi-disk ZIP archives are not supported");
        }
        long locator = eocd - ZIP64_LOCATOR_LEN;
        if (locator >= 0 && u32(locator) == ZIP64_LOCATOR_SIG) {
            long eocd64 = u64(locator + 8);
            need(eocd64, ZIP64_EOCD_LEN, "ZIP64 end of central directory record");
            if (eocd64 > locator - ZIP64_EOCD_LEN || u32(eocd64) != ZIP64_EOCD_SIG) {
                throw corrupt("the ZIP64 locator points to offset " + eocd64
                        + ", where there is no ZIP64 end of central directory record");
            }
            long[] narrow = {count, cdSize, cdOffset};
            long[] wide = {u64(eocd64 + 32), u64(eocd64 + 40), u64(eocd64 + 48)};
            long[] saturated = {0xFFFF, U32_MAX, U32_MAX};
            for (int k = 0; k < 3; k++) {
                // A field that is not saturated must agree with its ZIP64 twin; disagreement means tampering.
                if (narrow[k] != saturated[k] && narrow[k] != wide[k]) {
                    throw corrupt("the end of central directory record and its ZIP64 twin disagree ("
                            + narrow[k] + " vs " + wide[k] + "): the file is corrupt");
                }
            }
            count = wide[0];
            cdSize = wide[1];
            cdOffset = wide[2];
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > eocd || cdSize > eocd - cdOffset) {
            throw corrupt("the central directory (offset " + cdOffset + ", " + cdSize
                    + " bytes) lies outside the file of " + size + " bytes: the file is truncated or corrupt");
        }
        if (count < 0 || count > cdSize / CENTRAL_LEN) {
            throw corrupt("the central directory claims " + count + " entries but holds only " + cdSize + " bytes");
        }
        Map<String, Entry> out = new LinkedHashMap<>();
        long pos = cdOffset;
        long cdEnd = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (pos > cdEnd - CENTRAL_LEN || u32(pos) != CENTRAL_SIG) {
                throw corrupt("central directory entry " + i + " at offset " + pos + " is missing or damaged");
            }
            int flags = u16(pos + 8);
            int method = u16(pos + 10);
            long crc = u32(pos + 16);
            long csize = u32(pos + 20);
            long usize = u32(pos + 24);
            int nameLen = u16(pos + 28);
            int extraLen = u16(pos + 30);
            int commentLen = u16(pos + 32);
            long localOffset = u32(pos + 42);
            long varEnd = pos + CENTRAL_LEN + nameLen + extraLen + commentLen;
            if (varEnd > cdEnd) {
                throw corrupt("central directory entry " + i + " runs past the end of the central directory");
            }
            String name = decodeName(pos + CENTRAL_LEN, nameLen, "central directory entry " + i);
            // ZIP64 extra: 8-byte values, present only for the fields saturated at 0xFFFFFFFF, in this order.
            long[] wide = {usize, csize, localOffset};
            long extra = pos + CENTRAL_LEN + nameLen;
            long extraEnd = extra + extraLen;
            while (extra + 4 <= extraEnd) {
                int id = u16(extra);
                int len = u16(extra + 2);
                if (extra + 4 + len > extraEnd) {
                    throw corrupt("entry \"" + name + "\": extra field overruns its entry");
                }
                if (id == ZIP64_EXTRA_ID) {
                    long f = extra + 4;
                    for (int k = 0; k < wide.length; k++) {
                        if (wide[k] == U32_MAX) {
                            if (f + 8 > extra + 4 + len) {
                                throw corrupt("entry \"" + name + "\": ZIP64 extra field is too short");
                            }
                            wide[k] = u64(f);
                            f += 8;
                        }
                    }
                }
                extra += 4 + len;
            }
            usize = wide[0];
            csize = wide[1];
            localOffset = wide[2];
            long dataOffset = localData(name, localOffset, cdOffset);
            if (csize < 0 || usize < 0 || csize > cdOffset - dataOffset) {
                throw corrupt("entry \"" + name + "\" (" + csize + " bytes at offset " + dataOffset
                        + ") extends past the start of the central directory: the file is truncated or corrupt");
            }
            if (method == 0 && csize != usize) {
                throw corrupt("stored entry \"" + name + "\" has compressed size " + csize + " but size " + usize);
            }
            if (out.put(name, new Entry(name, method, flags, crc, csize, usize, dataOffset)) != null) {
                throw corrupt("entry \"" + name + "\" appears twice");
            }
            pos = varEnd;
        }
        return out;
    }

    /** The EOCD offset: the last signature whose comment reaches exactly to the end of the file. */
    private long findEndOfCentralDirectory() {
        long size = map.byteSize();
        long lowest = Math.max(0, size - EOCD_LEN - 0xFFFF);
        for (long p = size - EOCD_LEN; p >= lowest; p--) {
            if (u32(p) == EOCD_SIG && p + EOCD_LEN + u16(p + 20) == size) {
                return p;
            }
        }
        throw corrupt("no ZIP end of central directory record: the file is truncated or not a ZIP archive"
                + " (" + size + " bytes)");
    }

    /** Reads an entry's local header and returns the absolute offset of its data. */
    private long localData(String name, long localOffset, long cdOffset) {
        if (localOffset < 0 || localOffset > cdOffset - LOCAL_LEN || u32(localOffset) != LOCAL_SIG) {
            throw corrupt("entry \"" + name + "\": no local header at offset " + localOffset);
        }
        int nameLen = u16(localOffset + 26);
        int extraLen = u16(localOffset + 28);
        long data = localOffset + LOCAL_LEN + nameLen + extraLen;
        if (data > cdOffset) {
            throw corrupt("entry \"" + name + "\": local header runs into the central directory");
        }
        String localName = decodeName(localOffset + LOCAL_LEN, nameLen, "local header of \"" + name + "\"");
        if (!localName.equals(name)) {
            throw corrupt("entry \"" + name + "\": local header names \"" + localName + "\"");
        }
        return data;
    }

    private String decodeName(long at, int len, String where) {
        byte[] bytes = map.asSlice(at, len).toArray(ValueLayout.JAVA_BYTE);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(where + ": file name is not valid UTF-8");
        }
    }

    private static String methodName(int method) {
        return switch (method) {
            case 8 -> "deflate (method 8)";
            case 9 -> "deflate64 (method 9)";
            case 12 -> "bzip2 (method 12)";
            case 14 -> "LZMA (method 14)";
            case 93 -> "zstd (method 93)";
            default -> "compression method " + method;
        };
    }

    private void need(long at, long len, String what) {
        if (at < 0 || at > map.byteSize() - len) {
            throw corrupt(what + " at offset " + at + " lies past the end of the file (" + map.byteSize()
                    + " bytes): the file is truncated or corrupt");
        }
    }

    private int u16(long at) {
        need(at, 2, "field");
        return Short.toUnsignedInt(map.get(U16, at));
    }

    private long u32(long at) {
        need(at, 4, "field");
        return Integer.toUnsignedLong(map.get(U32, at));
    }

    /** An unsigned 64-bit field; values past Long.MAX_VALUE come back negative and fail range checks. */
    private long u64(long at) {
        need(at, 8, "field");
        return map.get(U64, at);
    }

    private CheckpointException corrupt(String problem) {
        return new CheckpointException(path, problem);
    }

    @Override
    public void close() {
        arena.close();
    }
}
