package org.euterpe.nn.blocks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes small F32 safetensors files for tests (hand-made weights, edited checkpoints). */
public final class SafetensorsWriter {
    private final Map<String, int[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> data = new LinkedHashMap<>();

    public SafetensorsWriter put(String name, int[] shape, float[] values) {
        if (Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b) != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for shape " + Arrays.toString(shape));
        }
        shapes.put(name, shape.clone());
        data.put(name, values.clone());
        return this;
    }

    public void write(Path path) throws IOException {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (String name : shapes.keySet()) {
            long size = 4L * data.get(name).length;
            if (header.length() > 1) {
                header.append(',');
            }
            header.append('"').append(name).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(Arrays.toString(shapes.get(name)).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + size).append("]}");
            offset += size;
        }
        header.append('}');
        while (header.length() % 8 != 0) {
            header.append(' ');
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + Math.toIntExact(offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (float[] v : data.values()) {
            for (float f : v) {
                buf.putFloat(f);
            }
        }
        Files.write(path, buf.array());
    }
}
