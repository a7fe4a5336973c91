package org.euterpe.pipeline;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.euterpe.nn.WeightSource;

/**
 * The memory-mapped weight bytes each component's layers use, so that a stage's weights can be
 * dropped from the process's resident set once the stage is done ({@link #release}).
 *
 * <p>Why this is safe: the mappings are read-only views of a file, so dropping their pages
 * ({@link MemorySegment#unload}, {@code madvise(MADV_DONTNEED)} on Linux) loses nothing; the next
 * read faults the same bytes back in, from the page cache while the kernel still holds them, else
 * from the file. Weights that are not mapped (converted in memory, uploaded to a device) are not
 * recorded and stay as they are.
 */
final class MappedWeights {
    private final Map<String, Set<MemorySegment>> byComponent = new LinkedHashMap<>();

    /**
     * {@code source}, recording every mapped tensor a layer reads under its component, the name's
     * part before the first dot ({@code unet.conv_in.weight} is the U-Net's).
     */
    WeightSource recording(WeightSource source) {
        return new WeightSource() {
            @Override
            public String where() {
                return source.where();
            }

            @Override
            public Set<String> names() {
                return source.names();
            }

            @Override
            public boolean contains(String name) {
                return source.contains(name);
            }

            @Override
            public Entry entry(String name) {
                return source.entry(name);
            }

            @Override
            public MemorySegment bytes(String name) {
                MemorySegment seg = source.bytes(name);
                int dot = name.indexOf('.');
                if (dot > 0) {
                    add(name.substring(0, dot), List.of(seg));
                }
                return seg;
            }
        };
    }

    /** Records {@code segments} (those that are mapped) as {@code component}'s. */
    synchronized void add(String component, List<MemorySegment> segments) {
        for (MemorySegment s : segments) {
            if (s.isMapped() && s.byteSize() > 0) {
                byComponent.computeIfAbsent(component, c -> new LinkedHashSet<>()).add(s);
            }
        }
    }

    /**
     * Drops {@code component}'s mapped weights from the resident set.
     *
     * @return how many mapped bytes the component has (what may have been resident)
     * @throws IllegalStateException when the mappings are already closed
     */
    synchronized long release(String component) {
        long bytes = 0;
        for (MemorySegment s : byComponent.getOrDefault(component, Set.of())) {
            s.unload();
            bytes += s.byteSize();
        }
        return bytes;
    }

    /** How many mapped bytes {@code component} has. */
    synchronized long mappedBytes(String component) {
        return byComponent.getOrDefault(component, Set.of()).stream().mapToLong(MemorySegment::byteSize).sum();
    }
}
