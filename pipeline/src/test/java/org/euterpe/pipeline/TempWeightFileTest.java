package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tensors written to a temporary file and mapped back: values, file lifetime, release from the resident set. */
class TempWeightFileTest {
    private final Backend backend = Backends.cpu();

    @Test
    void mappedTensorsHoldTheStoredValuesInTheirDtype(@TempDir Path dir) throws Exception {
        try (TempWeightFile file = TempWeightFile.create(dir, "unet")) {
            for (DType dtype : List.of(DType.F32, DType.F16, DType.BF16)) {
                Tensor made = backend.cast(backend.randn(Shape.of(3, 37), 5), dtype);
                Tensor mapped = file.store(made);
                assertEquals(dtype, mapped.dtype());
                assertEquals(made.shape(), mapped.shape());
                assertArrayEquals(made.toFloatArray(), mapped.toFloatArray(), dtype.toString());
            }
            assertEquals(3, file.segments().size());
            assertTrue(file.segments().stream().allMatch(MemorySegment::isMapped));
        }
    }

    @Test
    void theFileIsGoneOnceClosedAndOnLinuxAlreadyWhileOpen(@TempDir Path dir) throws Exception {
        TempWeightFile file = TempWeightFile.create(dir, "vae");
        Tensor mapped = file.store(backend.randn(Shape.of(64, 64), 1));
        if (System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux")) {
            assertEquals(0, entries(dir), "unlinked at once, so a killed process leaves nothing behind");
        }
        float before = mapped.toFloatArray()[4095];
        assertEquals(before, mapped.toFloatArray()[4095], "the mapping outlives the name");
        file.close();
        assertEquals(0, entries(dir));
    }

    @Test
    void releasedWeightsLeaveTheResidentSet(@TempDir Path dir) throws Exception {
        assumeTrue(ResidentMemory.current() > 0, "needs /proc/self/status");
        long bytes = 64L << 20;
        try (TempWeightFile file = TempWeightFile.create(dir, "unet")) {
            file.store(backend.zeros(DType.F32, Shape.of((int) (bytes / 4))));
            MemorySegment seg = file.segments().get(0);
            MappedWeights mapped = new MappedWeights();
            mapped.add("unet", file.segments());
            long sum = 0;
            for (long i = 0; i < bytes; i += 4096) { // fault every page in
                sum += seg.get(ValueLayout.JAVA_BYTE, i);
            }
            assertEquals(0, sum);
            long touched = ResidentMemory.current();
            assertEquals(bytes, mapped.release("unet"));
            long released = ResidentMemory.current();
            assertTrue(touched - released > bytes / 2, "resident " + ResidentMemory.format(touched) + " -> "
                    + ResidentMemory.format(released) + " after releasing 64 MiB");
            assertEquals(0f, seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, bytes - 4), "readable again after release");
        }
    }

    private static long entries(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }
}
