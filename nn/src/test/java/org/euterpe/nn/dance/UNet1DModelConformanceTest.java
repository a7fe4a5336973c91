package org.euterpe.nn.dance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.TestBackends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * UNet1DModel against FORMAT-DANCE.md section 3: the isolated calls {@code unet_call.0} (batch 1,
 * 0-d timestep, every module traced in tiny) and {@code unet_call.1} (batch 2, one timestep per
 * sample), within 1e-5 for outputs and traces.
 */
class UNet1DModelConformanceTest {
    private static final double TOLERANCE = 1e-5;

    static Stream<Arguments> cases() {
        return TestBackends.cpuBackends().flatMap(b -> Stream.of("tiny-dance-diffusion", "mini-dance-diffusion")
                .map(c -> Arguments.of(c, b)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void isolatedCallsMatchGoldens(String caseName, Backend backend) throws Exception {
        try (ConformanceGolden golden = ConformanceGolden.open(caseName, caseName + "/" + backend.name());
                ComponentFiles files = ComponentFiles.open(golden.dir(), "unet");
                Scope scope = Scope.open()) {
            UNet1DModel unet = UNet1DModel.load(files, backend);
            for (int call = 0; call < 2; call++) {
                String p = "unet_call." + call + ".";
                Tensor sample = golden.tensor(backend, p + "sample");
                float[] t = golden.floats(p + "timestep");
                ConformanceGolden.Recorder trace = new ConformanceGolden.Recorder();
                Tensor out = unet.forward(sample, t, trace);
                int traced = 0;
                for (String record : golden.names(p + "trace.")) {
                    String module = record.substring((p + "trace.").length());
                    float[] x = trace.values().get(module);
                    assertTrue(x != null, "no trace for " + record);
                    golden.check(record, trace.shape(module), x, TOLERANCE);
                    traced++;
                }
                assertTrue(traced > 0, "no traces recorded in " + caseName);
                golden.check(p + "out", out, TOLERANCE);
            }
            golden.assertAllPassed();
        }
    }

    @Test
    void rejectsIllegalLengthsAndTimesteps() throws Exception {
        Backend backend = Backends.scalar();
        try (ConformanceGolden golden = ConformanceGolden.open("tiny-dance-diffusion", "tiny/scalar");
                ComponentFiles files = ComponentFiles.open(golden.dir(), "unet");
                Scope scope = Scope.open()) {
            UNet1DModel unet = UNet1DModel.load(files, backend);
            assertEquals(24, unet.config().minLength());
            // 16 = 2 * 2^3: a multiple, but below 3 * 2^3 (mid_block.up could not reflect-pad)
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> unet.forward(backend.zeros(org.euterpe.tensor.DType.F32,
                            org.euterpe.tensor.Shape.of(1, 2, 16)), new float[] {0.5f}));
            assertTrue(e.getMessage().contains("at least 24"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> unet.forward(backend.zeros(
                    org.euterpe.tensor.DType.F32, org.euterpe.tensor.Shape.of(1, 2, 36)), new float[] {0.5f}));
            assertThrows(IllegalArgumentException.class, () -> unet.forward(backend.zeros(
                    org.euterpe.tensor.DType.F32, org.euterpe.tensor.Shape.of(1, 2, 32)), new float[] {0.1f, 0.2f}));
            // the shortest legal length runs
            Tensor y = unet.forward(backend.zeros(org.euterpe.tensor.DType.F32, org.euterpe.tensor.Shape.of(1, 2, 24)),
                    new float[] {0.5f});
            assertArrayEquals(new int[] {1, 2, 24}, y.shape().dims());
        }
    }
}
