package org.euterpe.nn;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * A writable copy of one component folder ({@code config.json} + {@code model.safetensors}) in
 * a temporary pipeline folder, for tests that break a checkpoint or config on purpose.
 */
public final class ComponentCopy {
    private final Map<String, Object> config;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /** A raw tensor: safetensors dtype, shape and little-endian bytes. */
    public record Tensor(DType dtype, int[] shape, byte[] bytes) {
    }

    @SuppressWarnings("unchecked")
    public ComponentCopy(Path pipelineDir, String component) throws IOException {
        Path dir = pipelineDir.resolve(component);
        config = (Map<String, Object>) Json.parseLenient(Files.readString(dir.resolve("config.json")));
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            for (String name : f.names()) {
                SafetensorsFile.Entry e = f.entry(name);
                tensors.put(name, new Tensor(e.dtype(), e.shape().dims(), f.bytes(name).toArray(
                        java.lang.foreign.ValueLayout.JAVA_BYTE)));
            }
        }
    }

    /** The parsed config, to edit in place. */
    public Map<String, Object> config() {
        return config;
    }

    /** The tensors by name, to edit in place. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** An F32 tensor of zeros. */
    public static Tensor zeros(int... shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return new Tensor(DType.F32, shape, new byte[Math.toIntExact(n * 4)]);
    }

    /** Writes {@code root/component/{config.json, model.safetensors}}; returns {@code root}. */
    public Path writeTo(Path root, String component) throws IOException {
        Path dir = Files.createDirectories(root.resolve(component));
        Files.writeString(dir.resolve("config.json"), Json.write(config));
        Map<String, Object> header = new LinkedHashMap<>();
        List<byte[]> data = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            List<Object> shape = new ArrayList<>();
            for (int d : t.shape()) {
                shape.add((long) d);
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype().safetensorsName());
            entry.put("shape", shape);
            entry.put("data_offsets", List.of(offset, offset + t.bytes().length));
            header.put(e.getKey(), entry);
            data.add(t.bytes());
            offset += t.bytes().length;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        data.forEach(out::put);
        Files.write(dir.resolve("model.safetensors"), out.array());
        return root;
    }
}
