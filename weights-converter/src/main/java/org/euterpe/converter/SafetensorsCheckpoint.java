package org.euterpe.converter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

import org.euterpe.tensor.safetensors.SafetensorsException;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/** A {@code .safetensors} weights file as a {@link CheckpointReader}. */
final class SafetensorsCheckpoint implements CheckpointReader {
    private final SafetensorsFile file;
    private final List<String> names;

    private SafetensorsCheckpoint(SafetensorsFile file) {
        this.file = file;
        this.names = List.copyOf(file.names());
    }

    /** Opens {@code path}; a file the safetensors reader rejects becomes a {@link CheckpointException}. */
    static SafetensorsCheckpoint open(Path path) throws IOException {
        try {
            return new SafetensorsCheckpoint(SafetensorsFile.open(path));
        } catch (SafetensorsException e) {
            throw new CheckpointException(path, "neither a torch.save ZIP nor a valid safetensors file: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public TensorInfo info(String name) {
        SafetensorsFile.Entry e = file.entry(name);
        if (e.dtype() == null) {
            throw new CheckpointException(file.path(), "tensor \"" + name + "\" has a dtype the engine does not support");
        }
        return new TensorInfo(name, e.dtype(), e.shape());
    }

    @Override
    public MemorySegment bytes(String name) {
        info(name);
        return file.bytes(name);
    }

    @Override
    public void close() {
        file.close();
    }
}
