package org.euterpe.tensor.safetensors;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.HostStorage;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.Json;

/**
 * Writes a safetensors file that the reference implementation (and {@link SafetensorsFile}) accepts.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *         .metadata("format", "pt")
 *         .add("weight", Shape.of(4, 3), floats)
 *         .add("ids", Shape.of(2), longs)
 *         .write(path);
 * }</pre>
 *
 * <p>Tensor data is streamed: {@code add} only records where the bytes come from, and
 * {@link #write} pulls them one tensor at a time through a small buffer, so a file of several GB
 * never sits in memory. Sources (arrays, segments, tensors) must stay valid until {@code write}
 * returns.
 *
 * <p>Layout: the JSON header is padded with spaces so the data area starts at a multiple of 8, and
 * tensors are stored by element size descending (stable, so insertion order within a size), which
 * places every tensor at a multiple of its element size with no gaps between tensors.
 *
 * <p>The file is written to a temporary file in the target's folder, forced to disk, and renamed
 * over the target atomically; on any failure the temporary file is deleted, so no reader ever sees
 * a half-written file and an existing target is left as it was.
 */
public final class SafetensorsWriter {
    /**
     * Produces one tensor's bytes: little-endian, row-major, exactly the declared byte count,
     * written to {@code out} (possibly in several writes).
     */
    @FunctionalInterface
    public interface Source {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    private record Pending(String name, DType dtype, Shape shape, long byteSize, Source source) {
    }

    /** Staging buffer size for encoding arrays and copying segments. */
    private static final int CHUNK = 1 << 16;

    private final Map<String, Pending> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "metadata key"), Objects.requireNonNull(value, "metadata value"));
        return this;
    }

    /** Adds every entry of {@code entries} to {@code __metadata__}. */
    public SafetensorsWriter metadata(Map<String, String> entries) {
        entries.forEach(this::metadata);
        return this;
    }

    /** A tensor from any source producing {@code shape.numel() * dtype.byteSize()} bytes. */
    public SafetensorsWriter add(String name, DType dtype, Shape shape, Source source) {
        Objects.requireNonNull(name, "tensor name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(source, "source");
        if (name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("\"" + name + "\" is reserved for the metadata");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("tensor \"" + name + "\" added twice");
        }
        long bytes = Math.multiplyExact(shape.numel(), dtype.byteSize());
        tensors.put(name, new Pending(name, dtype, shape, bytes, source));
        return this;
    }

    /** A tensor whose little-endian bytes are {@code bytes}. */
    public SafetensorsWriter add(String name, DType dtype, Shape shape, MemorySegment bytes) {
        checkSize(name, Math.multiplyExact(shape.numel(), dtype.byteSize()), bytes.byteSize(), "bytes");
        return add(name, dtype, shape, segmentSource(bytes));
    }

    /** An F32 tensor. */
    public SafetensorsWriter add(String name, Shape shape, float[] values) {
        return add(name, DType.F32, shape, values);
    }

    /** A floating tensor (F32, F16 or BF16, rounded to nearest even) from float values. */
    public SafetensorsWriter add(String name, DType dtype, Shape shape, float[] values) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("tensor \"" + name + "\": float values cannot be stored as " + dtype);
        }
        checkSize(name, shape.numel(), values.length, "values");
        return add(name, dtype, shape, floatSource(values, dtype));
    }

    /** An I64 tensor. */
    public SafetensorsWriter add(String name, Shape shape, long[] values) {
        return add(name, DType.I64, shape, values);
    }

    /** An integer tensor (I64, I32 or I8, each value checked to fit) from long values. */
    public SafetensorsWriter add(String name, DType dtype, Shape shape, long[] values) {
        if (dtype.isFloating()) {
            throw new IllegalArgumentException("tensor \"" + name + "\": long values cannot be stored as " + dtype);
        }
        checkSize(name, shape.numel(), values.length, "values");
        long min = dtype == DType.I64 ? Long.MIN_VALUE : dtype == DType.I32 ? Integer.MIN_VALUE : Byte.MIN_VALUE;
        long max = dtype == DType.I64 ? Long.MAX_VALUE : dtype == DType.I32 ? Integer.MAX_VALUE : Byte.MAX_VALUE;
        for (int i = 0; i < values.length; i++) {
            if (values[i] < min || values[i] > max) {
                throw new IllegalArgumentException("tensor \"" + name + "\": value " + values[i] + " at " + i
                        + " does not fit " + dtype);
            }
        }
        return add(name, dtype, shape, longSource(values, dtype));
    }

    /**
     * An engine tensor, in its own dtype. Host tensors are copied straight from their memory;
     * others are read back through {@link Tensor#toFloatArray} / {@link Tensor#toLongArray} at
     * write time. I8 tensors are refused: their values mean nothing without their scales, so write
     * the raw bytes and the scales as two tensors instead.
     */
    public SafetensorsWriter add(String name, Tensor t) {
        if (t.dtype() == DType.I8) {
            throw new IllegalArgumentException("tensor \"" + name + "\": an I8 tensor needs its scales; add its "
                    + "bytes and its scales as separate tensors");
        }
        return add(name, t.dtype(), t.shape(), tensorSource(t));
    }

    /** Writes the file atomically (see the class comment). */
    public void write(Path target) throws IOException {
        List<Pending> order = new ArrayList<>(tensors.values());
        order.sort(Comparator.comparingInt((Pending p) -> p.dtype().byteSize()).reversed());
        byte[] header = header(order);
        Path tmp = target.toAbsolutePath().resolveSibling(
                "." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
                writeFully(ch, ByteBuffer.wrap(header));
                for (Pending p : order) {
                    BoundedChannel out = new BoundedChannel(ch, p);
                    p.source().writeTo(out);
                    out.finish();
                }
                ch.force(true);
            }
            moveIntoPlace(tmp, target);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
    }

    /** The UTF-8 JSON header, padded with spaces so that 8 + its length is a multiple of 8. */
    private byte[] header(List<Pending> order) {
        Map<String, Object> json = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            json.put(SafetensorsHeader.METADATA_KEY, metadata);
        }
        long offset = 0;
        for (Pending p : order) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", p.dtype().safetensorsName());
            entry.put("shape", p.shape().dims());
            entry.put("data_offsets", new long[] {offset, offset + p.byteSize()});
            json.put(p.name(), entry);
            offset += p.byteSize();
        }
        byte[] text = Json.write(json).getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) & ~7;
        if (padded > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("header of " + padded + " bytes exceeds the safetensors limit of "
                    + SafetensorsHeader.MAX_HEADER_BYTES);
        }
        byte[] out = new byte[padded];
        System.arraycopy(text, 0, out, 0, text.length);
        Arrays.fill(out, text.length, padded, (byte) ' ');
        return out;
    }

    private static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void checkSize(String name, long expected, long actual, String what) {
        if (expected != actual) {
            throw new IllegalArgumentException("tensor \"" + name + "\": shape needs " + expected + " " + what
                    + " but got " + actual);
        }
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    // ---------------------------------------------------------------- sources

    /** Copies through a byte[] chunk: segments over float[] or long[] heap arrays cannot be viewed as ByteBuffers. */
    private static Source segmentSource(MemorySegment bytes) {
        return out -> {
            byte[] chunk = new byte[(int) Math.min(CHUNK, bytes.byteSize())];
            for (long off = 0; off < bytes.byteSize(); off += chunk.length) {
                int n = (int) Math.min(chunk.length, bytes.byteSize() - off);
                MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, off, chunk, 0, n);
                writeFully(out, ByteBuffer.wrap(chunk, 0, n));
            }
        };
    }

    private static Source floatSource(float[] values, DType dtype) {
        return out -> {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                if (buf.remaining() < Float.BYTES) {
                    drain(out, buf);
                }
                switch (dtype) {
                    case F32 -> buf.putFloat(v);
                    case F16 -> buf.putShort(Float.floatToFloat16(v));
                    case BF16 -> buf.putShort(DType.f32ToBf16(v));
                    default -> throw new AssertionError(dtype);
                }
            }
            drain(out, buf);
        };
    }

    private static Source longSource(long[] values, DType dtype) {
        return out -> {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) {
                if (buf.remaining() < Long.BYTES) {
                    drain(out, buf);
                }
                switch (dtype) {
                    case I64 -> buf.putLong(v);
                    case I32 -> buf.putInt((int) v);
                    case I8 -> buf.put((byte) v);
                    default -> throw new AssertionError(dtype);
                }
            }
            drain(out, buf);
        };
    }

    private static Source tensorSource(Tensor t) {
        return out -> {
            if (t.storage() instanceof HostStorage host) {
                segmentSource(host.segment().asSlice(t.byteOffset(), t.byteSize())).writeTo(out);
            } else if (t.dtype().isFloating()) {
                floatSource(t.toFloatArray(), t.dtype()).writeTo(out);
            } else {
                longSource(t.toLongArray(), t.dtype()).writeTo(out);
            }
        };
    }

    private static void drain(WritableByteChannel out, ByteBuffer buf) throws IOException {
        buf.flip();
        writeFully(out, buf);
        buf.clear();
    }

    /** Passes one tensor's bytes to the file, refusing more or fewer than its declared size. */
    private static final class BoundedChannel implements WritableByteChannel {
        private final FileChannel file;
        private final Pending tensor;
        private long written;
        private boolean open = true;

        BoundedChannel(FileChannel file, Pending tensor) {
            this.file = file;
            this.tensor = tensor;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (!open) {
                throw new ClosedChannelException();
            }
            if (src.remaining() > tensor.byteSize() - written) {
                throw new IllegalStateException(problem("more than"));
            }
            int n = file.write(src);
            written += n;
            return n;
        }

        void finish() {
            open = false;
            if (written != tensor.byteSize()) {
                throw new IllegalStateException(problem("only " + written + " of"));
            }
        }

        private String problem(String amount) {
            return "source of tensor \"" + tensor.name() + "\" " + tensor.dtype() + " " + tensor.shape()
                    + " wrote " + amount + " its " + tensor.byteSize() + " bytes";
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        /** The source does not own the file; closing only ends this tensor's writes. */
        @Override
        public void close() {
            open = false;
        }
    }
}
