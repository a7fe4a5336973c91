package org.euterpe.converter;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.safetensors.SafetensorsWriter;

/**
 * How the converter stores each tensor, and the streaming conversions that do it.
 *
 * <p>Policy: weight matrices and convolution kernels (floating, rank &ge; 2) take the requested
 * weight dtype; norms, biases, embedding tables and every other floating tensor stay F32 (they are
 * small, and the engine reads them as F32 activations' companions); integer buffers keep their
 * dtype. {@link DType#I8} is symmetric per dim-0 row ({@code [out, ...]}): {@code scale[o] =
 * max|w[o, ...]| / 127}, {@code q = rint(w / scale)}, stored with an F32 {@code [out]} tensor
 * named {@code <key>.__scale} ({@link #SCALE_SUFFIX}). A requested dtype of null ("as stored")
 * leaves weights in their checkpoint's floating dtype, so an fp16 checkpoint stays 16-bit.
 */
final class WeightEncoder {
    static final String SCALE_SUFFIX = ".__scale";
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Elements converted per buffer; keeps a multi-GB tensor out of the heap. */
    private static final int CHUNK = 1 << 14;

    private WeightEncoder() {
    }

    /**
     * One tensor as stored: its bytes are either {@code unchanged} (the checkpoint's own, no copy)
     * or produced by {@code encoder}.
     */
    record StoredTensor(String key, DType dtype, Shape shape, MemorySegment unchanged,
            SafetensorsWriter.Source encoder) {
        long byteSize() {
            return shape.numel() * dtype.byteSize();
        }

        void addTo(SafetensorsWriter writer, String name) {
            if (unchanged != null) {
                writer.add(name, dtype, shape, unchanged);
            } else {
                writer.add(name, dtype, shape, encoder);
            }
        }
    }

    /**
     * The tensors {@code key} is stored as: itself, re-encoded as {@link #storedDType}, plus its
     * {@code <key>.__scale} tensor when that is I8.
     *
     * @param weightDtype the component's weight dtype; null keeps each weight's own floating dtype
     */
    static List<StoredTensor> encode(String key, CheckpointReader.TensorInfo info, MemorySegment src,
            DType weightDtype) {
        DType stored = storedDType(key, info, weightDtype);
        Shape shape = info.shape();
        if (stored == info.dtype()) {
            return List.of(new StoredTensor(key, stored, shape, src, null));
        }
        if (stored == DType.I8) {
            float[] scales = int8Scales(src, info.dtype(), shape);
            MemorySegment scaleBytes = MemorySegment.ofArray(new byte[scales.length * 4]);
            for (int i = 0; i < scales.length; i++) {
                scaleBytes.setAtIndex(F32, i, scales[i]);
            }
            return List.of(new StoredTensor(key + SCALE_SUFFIX, DType.F32, Shape.of(shape.dim(0)), scaleBytes, null),
                    new StoredTensor(key, DType.I8, shape, null, int8(src, info.dtype(), shape, scales)));
        }
        return List.of(new StoredTensor(key, stored, shape, null, floats(src, info.dtype(), shape.numel(), stored)));
    }

    /**
     * The dtype {@code key} is stored in when the requested weight dtype is {@code weightDtype}
     * (null: as stored).
     */
    static DType storedDType(String key, CheckpointReader.TensorInfo info, DType weightDtype) {
        if (!info.dtype().isFloating()) {
            return info.dtype();
        }
        return storedFloatingDType(key, info.shape().rank(), info.dtype(), weightDtype);
    }

    /** {@link #storedDType} of a floating tensor of {@code rank} read as {@code source}. */
    static DType storedFloatingDType(String key, int rank, DType source, DType weightDtype) {
        if (rank < 2 || isEmbeddingTable(key)) {
            return DType.F32;
        }
        return weightDtype == null ? source : weightDtype;
    }

    /**
     * Whether {@code key} is an embedding lookup table ({@code word_embeddings.weight},
     * {@code position_embedding.weight}, {@code embed_tokens.weight}, ...). Erring towards F32 is
     * harmless: a Linear named like an embedding just stays full precision.
     */
    static boolean isEmbeddingTable(String key) {
        if (!key.endsWith(".weight")) {
            return false;
        }
        String module = key.substring(0, key.length() - ".weight".length());
        String last = module.substring(module.lastIndexOf('.') + 1);
        return last.endsWith("embeddings") || last.endsWith("embedding") || last.equals("embed_tokens");
    }

    /** Element {@code i} of a floating tensor's little-endian bytes, widened to float. */
    static float read(MemorySegment src, DType dtype, long i) {
        return switch (dtype) {
            case F32 -> src.getAtIndex(F32, i);
            case F16 -> Float.float16ToFloat(src.getAtIndex(I16, i));
            case BF16 -> DType.bf16ToF32(src.getAtIndex(I16, i));
            default -> throw new IllegalArgumentException(dtype + " is not a floating dtype");
        };
    }

    /**
     * The index of the first NaN or infinite element of a floating tensor, or -1 (integer tensors
     * have none): a model with one would only produce NaN audio, so the converter refuses it.
     */
    static long firstNonFinite(MemorySegment src, DType dtype, long numel) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            return -1;
        }
        for (long i = 0; i < numel; i++) {
            if (!Float.isFinite(read(src, dtype, i))) {
                return i;
            }
        }
        return -1;
    }

    /** Streams a floating tensor as {@code dst} (F32, F16 or BF16; rounding to nearest even). */
    static SafetensorsWriter.Source floats(MemorySegment src, DType srcType, long numel, DType dst) {
        return out -> {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK * dst.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (long start = 0; start < numel; start += CHUNK) {
                long end = Math.min(numel, start + CHUNK);
                buf.clear();
                for (long i = start; i < end; i++) {
                    float v = read(src, srcType, i);
                    switch (dst) {
                        case F32 -> buf.putFloat(v);
                        case F16 -> buf.putShort(Float.floatToFloat16(v));
                        case BF16 -> buf.putShort(DType.f32ToBf16(v));
                        default -> throw new IllegalArgumentException("cannot encode floats as " + dst);
                    }
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    out.write(buf);
                }
            }
        };
    }

    /** Per-row scales {@code [shape[0]]}: max |w| of each dim-0 row over 127. */
    static float[] int8Scales(MemorySegment src, DType srcType, Shape shape) {
        int rows = shape.dim(0);
        long rowLen = shape.numel() / Math.max(rows, 1);
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            float max = 0;
            for (long j = 0; j < rowLen; j++) {
                max = Math.max(max, Math.abs(read(src, srcType, r * rowLen + j)));
            }
            scales[r] = max / 127f;
        }
        return scales;
    }

    /** Streams {@code rint(w / scale[row])} as I8 (all zero for an all-zero row, whose scale is 0). */
    static SafetensorsWriter.Source int8(MemorySegment src, DType srcType, Shape shape, float[] scales) {
        long numel = shape.numel();
        long rowLen = numel / Math.max(shape.dim(0), 1);
        return out -> {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            for (long start = 0; start < numel; start += CHUNK) {
                long end = Math.min(numel, start + CHUNK);
                buf.clear();
                for (long i = start; i < end; i++) {
                    float scale = scales[(int) (i / rowLen)];
                    float q = scale == 0 ? 0 : (float) Math.rint(read(src, srcType, i) / scale);
                    buf.put((byte) Math.max(-127, Math.min(127, q)));
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    out.write(buf);
                }
            }
        };
    }
}
