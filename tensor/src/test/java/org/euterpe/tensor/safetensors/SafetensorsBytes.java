package org.euterpe.tensor.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors files byte by byte, valid or not, for the reader tests. */
final class SafetensorsBytes {
    private SafetensorsBytes() {
    }

    /** A file with the given raw header length field, header bytes and data bytes. */
    static Path raw(Path dir, String name, long headerLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(header).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    /** A file whose header is {@code json} (UTF-8, its true length) followed by {@code data}. */
    static Path file(Path dir, String name, String json, byte[] data) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return raw(dir, name, h.length, h, data);
    }

    /** A file with {@code dataBytes} zero bytes of data. */
    static Path file(Path dir, String name, String json, int dataBytes) throws IOException {
        return file(dir, name, json, new byte[dataBytes]);
    }

    /** A header (JSON text) entry: {@code "name": {"dtype": ..., "shape": ..., "data_offsets": ...}}. */
    static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }
}
