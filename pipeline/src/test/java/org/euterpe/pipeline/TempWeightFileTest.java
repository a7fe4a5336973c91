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
    void int8TensorsAreMappedWithTheirScales(@TempDir Path dir) throws Exception {
        for (String device : List.of("cpu", "opencl")) {
            Backends.Probe probe = Backends.probe(device);
            if (!probe.available()) {
                System.out.println("TempWeightFileTest: " + device + " skipped: " + probe.reason());
                continue;
            }
            Backend b = device.equals("cpu") ? backend : Backends.open(device, m -> { });
            byte[] q = new byte[3 * 5];
            for (int i = 0; i < q.length; i++) {
                q[i] = (byte) (i * 37 % 255 - 127);
            }
            float[] scales = {0.5f, 0.03125f, 0f};
            try (TempWeightFile file = TempWeightFile.create(dir, "transformer")) {
                Tensor made = b.fromHost(MemorySegment.ofArray(q), DType.I8, Shape.of(3, 5),
                        b.fromArray(scales, Shape.of(3)));
                Tensor mapped = file.store(made);
                assertEquals(DType.I8, mapped.dtype());
                assertArrayEquals(scales, mapped.scales().toFloatArray(), device);
                assertArrayEquals(made.toFloatArray(), mapped.toFloatArray(), 0f, device); // 0 * scale: +-0
                assertEquals(2, file.segments().size(), "the scales and the values, each mapped");
                MemorySegment values = file.segments().get(1);
                for (int i = 0; i < 10; i++) { // the rows of non-zero scale (the last row is zeros whatever q)
                    assertEquals(q[i], values.get(ValueLayout.JAVA_BYTE, i), device + " byte " + i);
                }
            }
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
