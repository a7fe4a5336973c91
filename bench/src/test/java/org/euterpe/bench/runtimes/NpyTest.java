package org.euterpe.bench.runtimes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    /** A version-1 .npy as numpy.save writes it: magic, header padded to 64 bytes, then the data. */
    private Path npy(String descr, String fortran, String shape, byte[] data) throws IOException {
        String header = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
        header = header + " ".repeat((64 - (10 + header.length() + 1) % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
        Path p = dir.resolve("a.npy");
        Files.write(p, b.array());
        return p;
    }

    @Test
    void readsInt64RowsAsNumpyWritesThem() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(6 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : new long[] {0, 5, 2, 1, 1, 49999}) {
            d.putLong(v);
        }
        Npy a = Npy.read("ids", npy("<i8", "False", "(2, 3)", d.array()));
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertNull(a.floats());
        assertArrayEquals(new long[][] {{0, 5, 2}, {1, 1, 49999}}, a.longRows());
    }

    @Test
    void floatsRoundTripThroughTheWriter() throws IOException {
        float[] v = {1.5f, -0f, Float.MIN_VALUE, 3e38f, -7.25f, 0.1f};
        Path p = dir.resolve("o.npy");
        Npy.writeFloats(p, new long[] {1, 2, 3}, v);
        assertTrue(Files.size(p) % 64 == 24, "header padded to 64 bytes as numpy pads it");
        Npy a = Npy.read("o", p);
        assertArrayEquals(new long[] {1, 2, 3}, a.shape());
        assertArrayEquals(v, a.floats());
        Npy.writeFloats(p, new long[] {4}, new float[] {1, 2, 3, 4}); // a 1-tuple shape: "(4,)"
        assertArrayEquals(new long[] {4}, Npy.read("o", p).shape());
    }

    @Test
    void refusesWhatItCannotRead() throws IOException {
        Path fortran = npy("<f4", "True", "(2, 2)", new byte[16]);
        assertThrows(IOException.class, () -> Npy.read("x", fortran));
        Path f64 = npy("<f8", "False", "(2,)", new byte[16]);
        assertTrue(assertThrows(IOException.class, () -> Npy.read("x", f64)).getMessage().contains("<f8"));
        Path truncated = npy("<f4", "False", "(4,)", new byte[8]);
        assertThrows(IOException.class, () -> Npy.read("x", truncated));
        Path notNpy = dir.resolve("b.npy");
        Files.writeString(notNpy, "hello, world");
        assertThrows(IOException.class, () -> Npy.read("x", notNpy));
    }
}
