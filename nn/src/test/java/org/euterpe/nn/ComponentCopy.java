package org.euterpe.nn;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.euterpe.tensor.safetensors.SafetensorsWriter;

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
                tensors.put(name, new Tensor(e.dtype(), e.shape().dims(), f.bytes(name).toArray(ValueLayout.JAVA_BYTE)));
            }
        }
    }

    /**
     * A copy of conformance case {@code caseName}'s {@code component}, changed by {@code edit}
     * and written under {@code root}; returns {@code root}, the pipeline folder to load from.
     */
    public static Path edited(String caseName, String component, Path root, Consumer<ComponentCopy> edit)
            throws IOException {
        ComponentCopy copy = new ComponentCopy(TestData.conformanceCase(caseName), component);
        edit.accept(copy);
        return copy.writeTo(root, component);
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
        SafetensorsWriter writer = new SafetensorsWriter();
        tensors.forEach((name, t) -> writer.add(name, t.dtype(), Shape.of(t.shape()), MemorySegment.ofArray(t.bytes())));
        writer.write(dir.resolve("model.safetensors"));
        return root;
    }
}
