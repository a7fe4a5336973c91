package org.euterpe.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.euterpe.kernels.cpu.CpuBackendBase;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Tensor;

/**
 * Weights made in memory (random benchmark weights) written to a temporary file and mapped back
 * read-only, so they live where a converted checkpoint's do: off the Java heap, paged in when a
 * layer first reads them, reclaimable by the kernel, and droppable from the resident set with
 * {@link AudioModel#releaseWeights}. On the heap the same weights would count in full towards the
 * resident set and make the heap grow around them.
 *
 * <p>The file is opened with {@link StandardOpenOption#DELETE_ON_CLOSE}: on Linux and macOS it is
 * unlinked at once (the mappings keep the data), so nothing is left behind however the process
 * ends; elsewhere it is deleted on {@link #close}.
 */
final class TempWeightFile implements AutoCloseable {
    /** Each tensor starts on a page of its own, so releasing one never touches another's pages. */
    private static final long ALIGN = 4096;
    private static final int STAGING_BYTES = 1 << 22;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(
            ByteOrder.LITTLE_ENDIAN);

    private final String component;
    private final FileChannel channel;
    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> segments = new ArrayList<>();
    private final MemorySegment stage = arena.allocate(STAGING_BYTES);
    private final ByteBuffer staging = stage.asByteBuffer();
    private long end;

    private TempWeightFile(String component, FileChannel channel) {
        this.component = component;
        this.channel = channel;
    }

    /** A new empty file in {@code dir}, named after {@code component}. */
    static TempWeightFile create(Path dir, String component) throws IOException {
        Path path = Files.createTempFile(dir, "euterpe-" + component + "-", ".weights");
        try {
            return new TempWeightFile(component, FileChannel.open(path, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, StandardOpenOption.DELETE_ON_CLOSE));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(path);
            throw e;
        }
    }

    /**
     * Writes {@code t} (F32, F16, BF16, or I8 with its per-row scales, on any backend) to the file
     * and returns the same values as a tensor of {@code t}'s backend viewing the read-only mapping:
     * an I8 tensor's scales are stored and mapped too, as a converted file's {@code <key>.__scale}.
     */
    synchronized Tensor store(Tensor t) {
        DType dtype = t.dtype();
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16 && dtype != DType.I8) {
            throw new IllegalArgumentException("a weight file stores F32, F16, BF16 or I8 tensors, not " + dtype);
        }
        if (t.numel() == 0) {
            throw new IllegalArgumentException("cannot store an empty tensor " + t.shape());
        }
        if (dtype == DType.I8) {
            Tensor scales = t.scales() == null ? null : store(t.scales().backend().cast(t.scales(), DType.F32));
            if (scales == null) {
                throw new IllegalArgumentException("an I8 tensor " + t.shape() + " without scales");
            }
            MemorySegment seg = write(int8Bytes(t), t.numel());
            return t.backend().fromHost(seg, dtype, t.shape(), scales);
        }
        MemorySegment seg = write(hostBytes(t), t.numel() * dtype.byteSize());
        return t.backend().fromHost(seg, dtype, t.shape(), null);
    }

    /** Appends {@code bytes} bytes of {@code host} at the next page and maps them back read-only. */
    private MemorySegment write(MemorySegment host, long bytes) {
        long offset = end;
        try {
            for (long done = 0; done < bytes; ) {
                int n = (int) Math.min(STAGING_BYTES, bytes - done);
                MemorySegment.copy(host, done, stage, 0, n);
                staging.clear().limit(n);
                while (staging.hasRemaining()) {
                    done += channel.write(staging, offset + done);
                }
            }
            MemorySegment seg = channel.map(FileChannel.MapMode.READ_ONLY, offset, bytes, arena);
            segments.add(seg);
            end = (offset + bytes + ALIGN - 1) / ALIGN * ALIGN;
            return seg;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write temporary weights: " + e.getMessage(), e);
        }
    }

    /**
     * An I8 tensor's quantised values: a CPU tensor's own bytes, else recovered from its dequantised
     * values ({@code q * scale / scale} rounds back to {@code q}: |q| <= 127 leaves the quotient within
     * an ulp or two of the integer).
     */
    private static MemorySegment int8Bytes(Tensor t) {
        if (t.backend() instanceof CpuBackendBase) {
            return CpuBackendBase.segment(t);
        }
        float[] values = t.toFloatArray();
        float[] scales = t.scales().toFloatArray();
        long per = t.numel() / t.dim(0);
        byte[] q = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            float scale = scales[(int) (i / per)];
            q[i] = scale == 0 ? 0 : (byte) Math.rint(values[i] / scale);
        }
        return MemorySegment.ofArray(q);
    }

    /** The component whose weights this file holds. */
    String component() {
        return component;
    }

    /**
     * {@code t}'s elements as little-endian bytes: a CPU tensor's own memory (no copy: a weight
     * being stored may be hundreds of MB, and the heap should not grow for it), else a host copy.
     */
    private static MemorySegment hostBytes(Tensor t) {
        if (t.backend() instanceof CpuBackendBase && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            return CpuBackendBase.segment(t);
        }
        float[] values = t.toFloatArray();
        MemorySegment out = MemorySegment.ofArray(new byte[Math.toIntExact(t.byteSize())]);
        for (int i = 0; i < values.length; i++) {
            switch (t.dtype()) {
                case F32 -> out.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i,
                        values[i]);
                case F16 -> out.setAtIndex(LE_SHORT, i, DType.f32ToF16(values[i]));
                default -> out.setAtIndex(LE_SHORT, i, DType.f32ToBf16(values[i]));
            }
        }
        return out;
    }

    /** The mapped segments of every tensor stored so far. */
    synchronized List<MemorySegment> segments() {
        return Collections.unmodifiableList(new ArrayList<>(segments));
    }

    /** Unmaps every tensor and deletes the file; the stored tensors must not be used afterwards. */
    @Override
    public synchronized void close() throws IOException {
        try {
            arena.close();
        } finally {
            channel.close();
        }
    }
}
