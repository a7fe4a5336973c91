package org.euterpe.converter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.WeightSource;

/**
 * A diffusers pipeline folder converted in memory: the same tensor names, dtypes and metadata as
 * the file {@link Converter#convert} would write (less the source hashes), with nothing written
 * to disk.
 *
 * <p>Tensors the precision leaves as they are stay zero-copy views of the mapped checkpoints
 * (safetensors, and the stored entries of torch zips); re-encoded ones (a lower precision, a
 * bias widened to F32, int8 with its scales) live in off-heap memory this model owns. Closing it
 * unmaps the checkpoints and frees that memory.
 */
public final class ConvertedModel implements WeightSource, AutoCloseable {
    private record Held(Entry entry, MemorySegment bytes) {
    }

    private final Path folder;
    private final Map<String, String> metadata;
    private final Map<String, Held> tensors;
    private final List<Converter.ComponentReport> components;
    private final List<CheckpointReader> readers;
    private final Arena arena;

    private ConvertedModel(Path folder, Map<String, String> metadata, Map<String, Held> tensors,
            List<Converter.ComponentReport> components, List<CheckpointReader> readers, Arena arena) {
        this.folder = folder;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.components = components;
        this.readers = readers;
        this.arena = arena;
    }

    /** Converts {@code folder} at {@code precision}; re-encoding runs on all cores. */
    public static ConvertedModel open(Path folder, Precision precision) throws IOException {
        PipelineFolder pipeline = PipelineFolder.scan(folder);
        Map<String, String> metadata = Converter.metadata(pipeline, precision);
        List<CheckpointReader> readers = new ArrayList<>();
        Arena arena = Arena.ofShared();
        try {
            Map<String, WeightEncoder.StoredTensor> stored = new LinkedHashMap<>();
            List<Converter.ComponentReport> components = Converter.read(pipeline, precision, false, readers, stored::put);
            Map<String, Held> tensors = new LinkedHashMap<>();
            stored.forEach((name, t) -> tensors.put(name, new Held(new Entry(t.dtype(), t.shape()),
                    t.unchanged() != null ? t.unchanged() : arena.allocate(t.byteSize(), 64))));
            stored.entrySet().parallelStream().filter(e -> e.getValue().unchanged() == null)
                    .forEach(e -> encodeInto(e.getValue(), tensors.get(e.getKey()).bytes()));
            return new ConvertedModel(folder, metadata, tensors, components, List.copyOf(readers), arena);
        } catch (IOException | RuntimeException | Error e) {
            readers.forEach(CheckpointReader::close);
            arena.close();
            throw e;
        }
    }

    /** Runs the tensor's encoder into {@code target}, which must take exactly its bytes. */
    private static void encodeInto(WeightEncoder.StoredTensor t, MemorySegment target) {
        long[] pos = {0};
        WritableByteChannel channel = new WritableByteChannel() {
            @Override
            public int write(ByteBuffer src) {
                int n = src.remaining();
                if (pos[0] + n > target.byteSize()) {
                    throw new IllegalStateException("encoder of \"" + t.key() + "\" wrote more than its "
                            + target.byteSize() + " bytes");
                }
                MemorySegment.copy(MemorySegment.ofBuffer(src), 0, target, pos[0], n);
                src.position(src.limit());
                pos[0] += n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        try {
            t.encoder().writeTo(channel);
        } catch (IOException e) {
            throw new IllegalStateException("encoding \"" + t.key() + "\" in memory", e);
        }
        if (pos[0] != target.byteSize()) {
            throw new IllegalStateException("encoder of \"" + t.key() + "\" wrote " + pos[0] + " of "
                    + target.byteSize() + " bytes");
        }
    }

    /** The same entries a converted file's {@code __metadata__} has, except the source hashes. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** What was read per component and what it became. */
    public List<Converter.ComponentReport> components() {
        return components;
    }

    @Override
    public String where() {
        return folder + " (converted in memory)";
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public Entry entry(String name) {
        return held(name).entry();
    }

    @Override
    public MemorySegment bytes(String name) {
        return held(name).bytes();
    }

    private Held held(String name) {
        Held h = tensors.get(name);
        if (h == null) {
            throw new ModelLoadException("no tensor \"" + name + "\" in " + where());
        }
        return h;
    }

    /** Unmaps the checkpoints and frees the re-encoded tensors; the tensors must no longer be used. */
    @Override
    public void close() {
        readers.forEach(CheckpointReader::close);
        arena.close();
    }
}
