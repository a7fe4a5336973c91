package org.euterpe.nn;

import java.lang.foreign.MemorySegment;
import java.util.Set;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * Named tensors as little-endian bytes: a mapped safetensors file, or a checkpoint folder converted
 * in memory. {@link Weights} reads a component's parameters through this, so models load the same
 * way whatever the weights came from.
 */
public interface WeightSource {
    /** A tensor's element type and shape. */
    record Entry(DType dtype, Shape shape) {
    }

    /** Where the tensors come from, for messages (a file path, a folder). */
    String where();

    /** Every tensor name, in a stable order. */
    Set<String> names();

    default boolean contains(String name) {
        return names().contains(name);
    }

    /** The tensor's dtype and shape; throws {@link ModelLoadException} naming it when absent. */
    Entry entry(String name);

    /**
     * The tensor's bytes ({@code numel * dtype size}), valid while the source is open. CPU backends
     * wrap them without copying.
     */
    MemorySegment bytes(String name);

    /** A mapped safetensors file as a source (the file stays owned by the caller). */
    static WeightSource of(SafetensorsFile file) {
        return new WeightSource() {
            @Override
            public String where() {
                return file.path().toString();
            }

            @Override
            public Set<String> names() {
                return file.names();
            }

            @Override
            public boolean contains(String name) {
                return file.contains(name);
            }

            @Override
            public Entry entry(String name) {
                if (!file.contains(name)) {
                    throw new ModelLoadException("no tensor \"" + name + "\" in " + file.path());
                }
                SafetensorsFile.Entry e = file.entry(name);
                return new Entry(e.dtype(), e.shape());
            }

            @Override
            public MemorySegment bytes(String name) {
                return file.bytes(name);
            }
        };
    }
}
