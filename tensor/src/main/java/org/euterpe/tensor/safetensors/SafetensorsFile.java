package org.euterpe.tensor.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * A safetensors file, memory-mapped read-only with {@code java.lang.foreign} (no 2 GB limit).
 * F32 tensors loaded onto a CPU backend are zero-copy views of the mapping.
 *
 * <p>Format: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON mapping
 * each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative
 * to the data area at 8 + N), and an optional {@code "__metadata__"} string map.
 *
 * <p>{@link #open} validates the whole header before returning, so every later read stays inside
 * the file. Problems reaching the file (missing, a directory, unreadable) are {@link IOException}s;
 * problems with its content are {@link SafetensorsException} subclasses naming the file, the
 * tensor and the problem. Unlike the reference implementation, gaps between tensors and bytes
 * after the last one are tolerated: they cannot make a read go wrong.
 *
 * <p>After {@link #close()}, the header queries ({@link #names}, {@link #entry}, {@link #metadata})
 * still answer, while data access throws IllegalStateException, as do tensors loaded zero-copy.
 * Like any mapping, the file must not be truncated by another process while it is open.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** One tensor's header entry. {@code begin}/{@code end} are relative to the data area. */
    public record Entry(String name, DType dtype, Shape shape, long begin, long end) {
        public long byteSize() {
            return end - begin;
        }
    }

    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final SafetensorsHeader header;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.header = header;
    }

    /**
     * Maps and validates {@code path}.
     *
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws FileSystemException               when it is a directory
     * @throws SafetensorsException              (a subclass) when its content is not a valid safetensors file
     */
    public static SafetensorsFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new FileSystemException(path.toString(), null, "is a directory, not a safetensors file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new SafetensorsFile(path, arena, map, SafetensorsHeader.read(path, map));
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Tensor names in header order. */
    public Set<String> names() {
        return header.entries().keySet();
    }

    public boolean contains(String name) {
        return header.entries().containsKey(name);
    }

    /** The header entry of {@code name}; throws {@link NoSuchTensorException} when absent. */
    public Entry entry(String name) {
        Entry e = header.entries().get(name);
        if (e == null) {
            throw new NoSuchTensorException(path, name, "no such tensor");
        }
        return e;
    }

    /** The tensor's bytes in the mapping. */
    public MemorySegment bytes(String name) {
        Entry e = entry(name);
        if (closed) {
            throw new IllegalStateException(path + " was closed; cannot read tensor \"" + name + "\"");
        }
        return mapping.asSlice(header.dataStart() + e.begin(), e.byteSize());
    }

    /** The tensor on {@code backend}: a zero-copy view on CPU backends, an upload elsewhere. */
    public Tensor load(Backend backend, String name) {
        Entry e = entry(name);
        return backend.fromHost(bytes(name), e.dtype(), e.shape(), null);
    }

    /** The tensor's values as floats (F32/F16/BF16 widened, integers converted). For tests and small tensors. */
    public float[] floats(String name) {
        Entry e = entry(name);
        MemorySegment b = bytes(name);
        int n = arrayLength(e);
        float[] out = new float[n];
        switch (e.dtype()) {
            case F32 -> MemorySegment.copy(b, F32_LE, 0, out, 0, n);
            case F16, BF16 -> {
                short[] bits = new short[n];
                MemorySegment.copy(b, I16_LE, 0, bits, 0, n);
                for (int i = 0; i < n; i++) {
                    out[i] = e.dtype() == DType.F16 ? Float.float16ToFloat(bits[i]) : DType.bf16ToF32(bits[i]);
                }
            }
            case I32, I64 -> {
                long[] values = longs(name);
                for (int i = 0; i < n; i++) {
                    out[i] = values[i];
                }
            }
            case I8 -> throw new SafetensorsException(path, name,
                    "cannot read I8 as floats without its scales; use longs() for the raw values");
        }
        return out;
    }

    /** The values of an integer tensor (I64, I32, or the raw I8 values). */
    public long[] longs(String name) {
        Entry e = entry(name);
        MemorySegment b = bytes(name);
        int n = arrayLength(e);
        long[] out = new long[n];
        switch (e.dtype()) {
            case I64 -> MemorySegment.copy(b, I64_LE, 0, out, 0, n);
            case I32 -> {
                int[] values = new int[n];
                MemorySegment.copy(b, I32_LE, 0, values, 0, n);
                for (int i = 0; i < n; i++) {
                    out[i] = values[i];
                }
            }
            case I8 -> {
                byte[] values = b.toArray(ValueLayout.JAVA_BYTE);
                for (int i = 0; i < n; i++) {
                    out[i] = values[i];
                }
            }
            case F32, F16, BF16 -> throw new SafetensorsException(path, name, "not an integer tensor: " + e.dtype());
        }
        return out;
    }

    private int arrayLength(Entry e) {
        long n = e.shape().numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path, e.name(), n + " elements do not fit a Java array; use bytes()");
        }
        return (int) n;
    }

    /** Unmaps the file; tensors loaded zero-copy from it fail with IllegalStateException afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
