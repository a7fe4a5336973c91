package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ZipArchive} against java.util.zip's reader, on torch's output and on hand-built ZIP64 archives. */
class ZipArchiveTest {
    @TempDir
    Path tmp;

    @Test
    void agreesWithJavaUtilZipOnATorchCheckpoint() throws Exception {
        assertSameAsJdk(Fixtures.resource("vocoder-fp32.bin"), 60);
    }

    @Test
    void readsZip64ExtraFieldsAndEndRecords() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("root/data.pkl", "not really a pickle".getBytes(StandardCharsets.UTF_8));
        entries.put("root/data/0", Fixtures.f32(1f, 2f, 3f));
        entries.put("root/data/empty", new byte[0]);
        Path file = tmp.resolve("zip64.zip");
        Files.write(file, zip64(entries));
        assertSameAsJdk(file, 3);
    }

    @Test
    void refusesCompressedEntriesNamingTheMethod() throws Exception {
        Path file = tmp.resolve("deflated.zip");
        Files.write(file, Fixtures.zip(Map.of("root/data/0", new byte[1000]), ZipEntry.DEFLATED));
        try (ZipArchive zip = ZipArchive.open(file)) {
            ZipArchive.Entry e = zip.entry("root/data/0");
            CheckpointException ex = assertThrows(CheckpointException.class, () -> zip.data(e));
            assertTrue(ex.getMessage().contains("deflate (method 8)"), ex.getMessage());
        }
    }

    @Test
    void refusesACentralDirectoryOutsideTheFile() throws Exception {
        byte[] bytes = Files.readAllBytes(Fixtures.resource("vocoder-fp32.bin"));
        // torch writes a ZIP64 end record (56 bytes), its locator (20) and the classic EOCD (22, no comment).
        int zip64CdOffset = bytes.length - 22 - 20 - 56 + 48;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(zip64CdOffset, 1L << 40);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length - 22 + 16, -1); // saturated
        Path outside = tmp.resolve("cd-outside.bin");
        Files.write(outside, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ZipArchive.open(outside));
        assertTrue(e.getMessage().contains("lies outside the file"), e.getMessage());

        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length - 22 + 16, 1234);
        Path disagree = tmp.resolve("cd-disagree.bin");
        Files.write(disagree, bytes);
        e = assertThrows(CheckpointException.class, () -> ZipArchive.open(disagree));
        assertTrue(e.getMessage().contains("disagree"), e.getMessage());
    }

    @Test
    void detectsACorruptStorageByItsCrc() throws Exception {
        byte[] bytes = Files.readAllBytes(Fixtures.resource("vocoder-fp32.bin"));
        long dataOffset;
        String victim;
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(Fixtures.resource("vocoder-fp32.bin"));
                ZipArchive zip = ZipArchive.open(Fixtures.resource("vocoder-fp32.bin"))) {
            victim = ckpt.names().getFirst();
            dataOffset = zip.entry("pytorch_model/data/" + ckpt.tensor(victim).storageKey()).dataOffset();
        }
        bytes[(int) dataOffset] ^= 0x40;
        Path file = tmp.resolve("flipped.bin");
        Files.write(file, bytes);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> ckpt.bytes(victim));
            assertTrue(e.getMessage().contains("CRC-32"), e.getMessage());
        }
    }

    /** Entries, sizes, CRCs and contents as java.util.zip.ZipFile reads them. */
    private static void assertSameAsJdk(Path file, int expectedEntries) throws Exception {
        try (ZipFile jdk = new ZipFile(file.toFile()); ZipArchive ours = ZipArchive.open(file)) {
            List<String> jdkNames = new ArrayList<>();
            jdk.stream().forEach(e -> jdkNames.add(e.getName()));
            assertEquals(expectedEntries, jdkNames.size());
            assertEquals(jdkNames, List.copyOf(ours.entries().keySet()));
            for (String name : jdkNames) {
                ZipEntry je = jdk.getEntry(name);
                ZipArchive.Entry oe = ours.entry(name);
                assertEquals(je.getSize(), oe.size(), name);
                assertEquals(je.getCrc(), oe.crc32(), name);
                byte[] expected;
                try (InputStream in = jdk.getInputStream(je)) {
                    expected = in.readAllBytes();
                }
                assertArrayEquals(expected, ours.data(oe).toArray(ValueLayout.JAVA_BYTE), name);
                ours.verifyCrc(oe);
            }
        }
    }

    /**
     * A stored archive with every size and offset in ZIP64 form: saturated 32-bit fields plus ZIP64
     * extra fields, and a ZIP64 end record and locator (APPNOTE 4.3.9-4.3.15, 4.5.3).
     */
    private static byte[] zip64(Map<String, byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream central = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] data = e.getValue();
            CRC32 crc = new CRC32();
            crc.update(data);
            long localOffset = out.size();
            out.writeBytes(le().putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0)
                    .putInt(0).putInt((int) crc.getValue()).putInt(-1).putInt(-1)
                    .putShort((short) name.length).putShort((short) 20).array(30));
            out.writeBytes(name);
            out.writeBytes(le().putShort((short) 1).putShort((short) 16).putLong(data.length).putLong(data.length)
                    .array(20));
            out.writeBytes(data);
            central.writeBytes(le().putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0)
                    .putShort((short) 0).putInt(0).putInt((int) crc.getValue()).putInt(-1).putInt(-1)
                    .putShort((short) name.length).putShort((short) 28).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putInt(0).putInt(-1).array(46));
            central.writeBytes(name);
            central.writeBytes(le().putShort((short) 1).putShort((short) 24).putLong(data.length)
                    .putLong(data.length).putLong(localOffset).array(28));
        }
        long cdOffset = out.size();
        out.writeBytes(central.toByteArray());
        long eocd64 = out.size();
        out.writeBytes(le().putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0)
                .putInt(0).putLong(entries.size()).putLong(entries.size()).putLong(central.size()).putLong(cdOffset)
                .array(56));
        out.writeBytes(le().putInt(0x07064b50).putInt(0).putLong(eocd64).putInt(1).array(20));
        out.writeBytes(le().putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1)
                .putShort((short) -1).putInt(-1).putInt(-1).putShort((short) 0).array(22));
        return out.toByteArray();
    }

    /** A little-endian record builder whose array(n) checks the record's length. */
    private static Le le() {
        return new Le();
    }

    private static final class Le {
        private final ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);

        Le putInt(int v) {
            b.putInt(v);
            return this;
        }

        Le putShort(short v) {
            b.putShort(v);
            return this;
        }

        Le putLong(long v) {
            b.putLong(v);
            return this;
        }

        byte[] array(int expectedLength) {
            assertEquals(expectedLength, b.position(), "record length");
            return java.util.Arrays.copyOf(b.array(), expectedLength);
        }
    }
}
