package org.euterpe.converter;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;

/**
 * The tensors of one component's weights file, whatever its format: {@code .safetensors} or a
 * {@code torch.save} zip checkpoint ({@code .bin}, {@code .pt}, {@code .pth}).
 */
public interface CheckpointReader extends AutoCloseable {
    /** A tensor's name, element type and shape. */
    record TensorInfo(String name, DType dtype, Shape shape) {
        public long byteSize() {
            return shape.numel() * dtype.byteSize();
        }
    }

    /** Opens {@code file}, choosing the format from its first bytes rather than its name. */
    static CheckpointReader open(Path file) throws IOException {
        byte[] magic = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(magic, 0, 4);
        }
        if (n == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) {
            return TorchCheckpoint.open(file);
        }
        if (n >= 2 && (magic[0] & 0xFF) == 0x80 && magic[1] <= 5) {
            throw new CheckpointException(file, "a bare pickle: the legacy (torch < 1.6) torch.save format is not"
                    + " supported; re-save it with a newer torch, or as safetensors");
        }
        return SafetensorsCheckpoint.open(file);
    }

    Path path();

    /** Tensor names in file order. */
    List<String> names();

    /** The tensor's dtype and shape; throws naming the file when absent. */
    TensorInfo info(String name);

    /**
     * The tensor's data: {@link TensorInfo#byteSize()} bytes, little-endian, row-major. A view of the
     * mapped file where the layout allows (valid until {@link #close()}).
     */
    MemorySegment bytes(String name);

    @Override
    void close();
}
