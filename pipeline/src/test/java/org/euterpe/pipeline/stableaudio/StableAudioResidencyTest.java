package org.euterpe.pipeline.stableaudio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

import org.euterpe.converter.Converter;
import org.euterpe.kernels.Backends;
import org.euterpe.nn.WeightSource;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.ResidentMemory;
import org.euterpe.pipeline.WeightResidency;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.euterpe.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stable Audio's weight residency: a component's mapped pages leave the resident set when its stage is done
 * (T5 after encoding, the DiT after denoising, the VAE's once it has copied them at load), and releasing them
 * changes nothing generated.
 */
class StableAudioResidencyTest {
    @Test
    void releasingAComponentDropsItsMappedPagesOnly(@TempDir Path tmp) throws Exception {
        assumeTrue(ResidentMemory.current() > 0, "needs /proc/self/status");
        int n = 16 << 20; // 64 MiB of F32 each
        Path file = tmp.resolve("w.safetensors");
        new SafetensorsWriter().add("vae.w", DType.F32, Shape.of(n), MemorySegment.ofArray(new byte[4 * n]))
                .add("transformer.w", DType.F32, Shape.of(n), MemorySegment.ofArray(new byte[4 * n])).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            WeightSource source = WeightSource.of(f);
            long sum = touch(source.bytes("vae.w")) + touch(source.bytes("transformer.w"));
            assertEquals(0, sum);
            long touched = ResidentMemory.current();
            StableAudioPipeline.releaseMapped(source, "vae.");
            long released = ResidentMemory.current();
            assertTrue(touched - released > (2L * n), "resident " + ResidentMemory.format(touched) + " -> "
                    + ResidentMemory.format(released) + " after releasing 64 MiB");
            assertTrue(touched - released < (6L * n), "the transformer's 64 MiB stay: " + ResidentMemory.format(
                    touched) + " -> " + ResidentMemory.format(released));
            assertEquals(0, touch(source.bytes("vae.w")), "readable again after release");
        }
    }

    @Test
    void releasingAfterEachStageGeneratesWhatKeepingDoes(@TempDir Path tmp) throws Exception {
        Path one = tmp.resolve("sao.safetensors");
        Converter.convert(TestData.conformanceCase("tiny-stable-audio"), one, DType.F32);
        StableAudioRequest request = new StableAudioRequest(List.of("rain on a tin roof"), null, 4.0, 3, 0.0, null, 1,
                7, null, null);
        float[][][] kept;
        float[][][] released;
        try (StableAudioPipeline p = StableAudioPipeline.load(one, Backends.cpu())) {
            assertEquals(WeightResidency.RELEASE_AFTER_STAGE, p.residency(), "the default, as for AudioLDM");
            released = p.generate(request, ProgressListener.NONE).audio();
            // a second generation faults the released pages back in
            assertArrayEquals(released[0][1], p.generate(request, ProgressListener.NONE).audio()[0][1]);
        }
        try (StableAudioPipeline p = StableAudioPipeline.load(one, Backends.cpu()).withResidency(WeightResidency.KEEP)) {
            kept = p.generate(request, ProgressListener.NONE).audio();
        }
        for (int c = 0; c < 2; c++) {
            assertArrayEquals(kept[0][c], released[0][c], "channel " + c);
        }
    }

    private static long touch(MemorySegment seg) {
        long sum = 0;
        for (long i = 0; i < seg.byteSize(); i += 4096) {
            sum += seg.get(ValueLayout.JAVA_BYTE, i);
        }
        return sum;
    }
}
