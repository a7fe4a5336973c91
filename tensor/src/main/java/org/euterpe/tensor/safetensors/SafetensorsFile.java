package org.euterpe.tensor.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.Json;

/**
 * A safetensors file, memory-mapped read-only with {@code java.lang.foreign} (no 2 GB limit).
 * F32 tensors loaded onto a CPU backend are zero-copy views of the mapping.
 *
 * <p>Format: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON mapping
 * each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative
 * to the data area at 8 + N), and an optional {@code "__metadata__"} string map.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** One tensor's header entry. {@code begin}/{@code end} are relative to the data area. */
    public record Entry(String name, DType dtype, Shape shape, long begin, long end) {
        public long byteSize() {
            return end - begin;
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping, long dataStart,
            Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Maps and validates {@code path}. */
    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            if (size < 8) {
                throw new SafetensorsException(path, null, "file of " + size + " bytes is too short for a header");
            }
            long n = map.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            if (n < 0 || n > size - 8) {
                throw new SafetensorsException(path, null, "header length " + Long.toUnsignedString(n)
                        + " exceeds the file size " + size);
            }
            byte[] header = map.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            String json = new String(header, StandardCharsets.UTF_8);
            Object parsed = Json.parse(json);
            @SuppressWarnings("unchecked")
            Map<String, Object> top = (Map<String, Object>) parsed;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : top.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) e.getValue();
                    m.forEach((k, v) -> metadata.put(k, (String) v));
                    continue;
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> t = (Map<String, Object>) e.getValue();
                DType dtype = DType.fromSafetensorsName((String) t.get("dtype"));
                List<?> shapeList = (List<?>) t.get("shape");
                long[] dims = new long[shapeList.size()];
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = ((Number) shapeList.get(i)).longValue();
                }
                List<?> off = (List<?>) t.get("data_offsets");
                long begin = ((Number) off.get(0)).longValue();
                long end = ((Number) off.get(1)).longValue();
                entries.put(e.getKey(), new Entry(e.getKey(), dtype, Shape.of(dims), begin, end));
            }
            return new SafetensorsFile(path, arena, map, 8 + n, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in header order. */
    public Set<String> names() {
        return entries.keySet();
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The header entry of {@code name}; throws naming the file and tensor when absent. */
    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new SafetensorsException(path, name, "no such tensor");
        }
        return e;
    }

    /** The tensor's bytes in the mapping. */
    public MemorySegment bytes(String name) {
        Entry e = entry(name);
        return mapping.asSlice(dataStart + e.begin(), e.byteSize());
    }

    /** The tensor on {@code backend}: a zero-copy view on CPU backends, an upload elsewhere. */
    public Tensor load(Backend backend, String name) {
        Entry e = entry(name);
        return backend.fromHost(bytes(name), e.dtype(), e.shape(), null);
    }

    /** The tensor's values as floats (F32/F16/BF16 widened). For tests and small tensors. */
    public float[] floats(String name) {
        Entry e = entry(name);
        MemorySegment b = bytes(name);
        int n = Math.toIntExact(e.shape().numel());
        float[] out = new float[n];
        switch (e.dtype()) {
            case F32 -> MemorySegment.copy(b, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(b.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = DType.bf16ToF32(b.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                }
            }
            case I64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = b.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                }
            }
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = b.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                }
            }
            default -> throw new SafetensorsException(path, name, "cannot read " + e.dtype() + " as floats");
        }
        return out;
    }

    /** The values of an I64 or I32 tensor. */
    public long[] longs(String name) {
        Entry e = entry(name);
        MemorySegment b = bytes(name);
        int n = Math.toIntExact(e.shape().numel());
        long[] out = new long[n];
        switch (e.dtype()) {
            case I64 -> MemorySegment.copy(b, ValueLayout.JAVA_LONG_UNALIGNED, 0, out, 0, n);
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = b.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                }
            }
            default -> throw new SafetensorsException(path, name, "not an integer tensor: " + e.dtype());
        }
        return out;
    }

    /** Unmaps the file; tensors loaded zero-copy from it must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
