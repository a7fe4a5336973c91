package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * 16-bit and int8 weights, widened inside each backend's kernels: every model record of the tiny
 * case must reach the SNR goal against the float32 reference (40 dB for F16/BF16, 25 dB for I8).
 */
class LowPrecisionConformanceTest {

    static Stream<Arguments> cases() {
        return Stream.of("cpu", "opencl", "cuda").flatMap(device -> Stream.of(DType.F16, DType.BF16, DType.I8)
                .map(dtype -> Arguments.of(device, dtype)));
    }

    /** Dance Diffusion (tiny, every record including the runs and the verbs) on the CPU backend. */
    static Stream<Arguments> danceCases() {
        return Stream.of(DType.F16, DType.BF16, DType.I8).map(dtype -> Arguments.of("cpu", dtype));
    }

    @ParameterizedTest(name = "Dance Diffusion, {1} weights on {0}")
    @MethodSource("danceCases")
    void everyDanceRecordReachesItsSnrGoal(String device, DType dtype) throws Exception {
        Backends.Probe probe = Backends.probe(device);
        Assumptions.assumeTrue(probe.available(), () -> device + " unavailable: " + probe.reason());
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<ConformanceRunner.Result> results;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            results = new ConformanceRunner(TestData.conformanceCase("tiny-dance-diffusion"), null, probe.backend(),
                    Precision.recommended(dtype), Set.of(), ps).run();
        }
        double worst = results.stream().mapToDouble(ConformanceRunner.Result::snrDb).filter(Double::isFinite)
                .min().orElse(Double.NaN);
        System.out.printf("Dance Diffusion %s weights on %s: %d records, lowest SNR %.1f dB%n", dtype, device,
                results.size(), worst);
        List<String> failed = results.stream().filter(r -> !r.pass()).map(ConformanceRunner.Result::name).toList();
        if (!failed.isEmpty()) {
            System.out.println(buf.toString(StandardCharsets.UTF_8));
        }
        assertEquals(List.of(), failed);
    }

    @ParameterizedTest(name = "{1} weights on {0}")
    @MethodSource("cases")
    void everyModelRecordReachesItsSnrGoal(String device, DType dtype) throws Exception {
        Backends.Probe probe = Backends.probe(device);
        if (!probe.available()) {
            System.out.println("SKIPPED " + dtype + " on " + device + ": " + probe.reason());
        }
        Assumptions.assumeTrue(probe.available(), () -> device + " unavailable: " + probe.reason());
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<ConformanceRunner.Result> results;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            results = new ConformanceRunner(TestData.conformanceCase("tiny-audioldm"), null, probe.backend(),
                    Precision.recommended(dtype), Set.of("models"), ps).run();
        }
        double worst = results.stream().mapToDouble(ConformanceRunner.Result::snrDb).filter(Double::isFinite)
                .min().orElse(Double.NaN);
        System.out.printf("%s weights on %s: %d records, lowest SNR %.1f dB%n", dtype, device, results.size(), worst);
        List<String> failed = results.stream().filter(r -> !r.pass()).map(ConformanceRunner.Result::name).toList();
        if (!failed.isEmpty()) {
            System.out.println(buf.toString(StandardCharsets.UTF_8));
        }
        assertEquals(List.of(), failed);
    }
}
