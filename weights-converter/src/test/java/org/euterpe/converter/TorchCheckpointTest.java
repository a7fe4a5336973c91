package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layouts torch can write that the tiny fixtures do not contain: strided views, shared storages, bad views. */
class TorchCheckpointTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final float[] STORAGE = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

    @TempDir
    Path tmp;

    private Path write(Fixtures.Pickle pickle, long storageNumel) throws Exception {
        Path file = tmp.resolve("model.bin");
        byte[] zip = Fixtures.torchZip("model", pickle.bytes(),
                Map.of("0", Fixtures.f32(java.util.Arrays.copyOf(STORAGE, (int) storageNumel))));
        Files.write(file, zip);
        return file;
    }

    /** Row-major values of a strided view: element (i, j) is storage[offset + i*stride0 + j*stride1]. */
    private static float[] gather(long offset, int[] size, long[] stride) {
        float[] out = new float[size[0] * size[1]];
        for (int i = 0; i < size[0]; i++) {
            for (int j = 0; j < size[1]; j++) {
                out[i * size[1] + j] = STORAGE[(int) (offset + i * stride[0] + j * stride[1])];
            }
        }
        return out;
    }

    @Test
    void stridedAndSharedViewsComeBackRowMajor() throws Exception {
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict();
        p.str("transposed").tensor("FloatStorage", "0", 12, 0, new long[] {4, 3}, new long[] {1, 4});
        p.str("rows").tensor("FloatStorage", "0", 12, 1, new long[] {2, 2}, new long[] {6, 1});
        p.str("contiguous").tensor("FloatStorage", "0", 12, 6, new long[] {2, 3}, new long[] {3, 1});
        p.str("broadcast").tensor("FloatStorage", "0", 12, 5, new long[] {2, 3}, new long[] {0, 1});
        Path file = write(p.endStateDict(), 12);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            assertEquals(java.util.List.of("transposed", "rows", "contiguous", "broadcast"), ckpt.names());
            assertFalse(ckpt.tensor("transposed").contiguous());
            assertTrue(ckpt.tensor("contiguous").contiguous());
            assertArrayEquals(gather(0, new int[] {4, 3}, new long[] {1, 4}), floats(ckpt, "transposed"));
            assertArrayEquals(gather(1, new int[] {2, 2}, new long[] {6, 1}), floats(ckpt, "rows"));
            assertArrayEquals(gather(6, new int[] {2, 3}, new long[] {3, 1}), floats(ckpt, "contiguous"));
            assertArrayEquals(gather(5, new int[] {2, 3}, new long[] {0, 1}), floats(ckpt, "broadcast"));
            assertEquals(new CheckpointReader.TensorInfo("transposed", DType.F32, Shape.of(4, 3)),
                    ckpt.info("transposed"));
        }
    }

    @Test
    void parametersAreTheirData() throws Exception {
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict().str("w");
        p.global("torch._utils", "_rebuild_parameter").op('(');
        p.tensor("FloatStorage", "0", 3, 0, new long[] {3}, new long[] {1});
        p.op(0x88).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(write(p.endStateDict(), 3))) {
            assertArrayEquals(new float[] {0, 1, 2}, floats(ckpt, "w"));
        }
    }

    @Test
    void aViewPastItsStorageIsRefused() throws Exception {
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict();
        p.str("w").tensor("FloatStorage", "0", 6, 3, new long[] {4}, new long[] {1});
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> TorchCheckpoint.open(write(p.endStateDict(), 6)));
        assertTrue(e.getMessage().contains("reaches element 6 of a storage of 6"), e.getMessage());
    }

    @Test
    void aStorageOfTheWrongSizeIsRefused() throws Exception {
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict();
        p.str("w").tensor("FloatStorage", "0", 7, 0, new long[] {6}, new long[] {1});
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> TorchCheckpoint.open(write(p.endStateDict(), 6)));
        assertTrue(e.getMessage().contains("holds 24 bytes but its 7 F32 elements need 28"), e.getMessage());
    }

    @Test
    void aMissingStorageIsRefused() throws Exception {
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict();
        p.str("w").tensor("FloatStorage", "9", 6, 0, new long[] {6}, new long[] {1});
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> TorchCheckpoint.open(write(p.endStateDict(), 6)));
        assertTrue(e.getMessage().contains("storage \"9\" is missing"), e.getMessage());
    }

    @Test
    void aNonTensorValueIsRefused() throws Exception {
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict().str("epoch").integer(3);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> TorchCheckpoint.open(write(p.endStateDict(), 6)));
        assertTrue(e.getMessage().contains("\"epoch\" is a int, not a tensor"), e.getMessage());
    }

    private static float[] floats(CheckpointReader r, String name) {
        MemorySegment b = r.bytes(name);
        assertEquals(r.info(name).byteSize(), b.byteSize());
        float[] out = new float[(int) (b.byteSize() / 4)];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getAtIndex(F32, i);
        }
        return out;
    }
}
