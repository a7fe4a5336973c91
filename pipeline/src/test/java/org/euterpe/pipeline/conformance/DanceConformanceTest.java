package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every record of the Dance Diffusion cases (FORMAT-DANCE.md: schedules, isolated U-Net calls with
 * traces, IPNDM runs closed and open loop, regenerate, interpolate) through the runner of
 * {@code euterpe conformance}: tiny on every backend, mini (13 levels, the real block layout) on
 * the fast ones. Absent backends are skipped with the reason.
 */
class DanceConformanceTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("tiny-dance-diffusion", "scalar"),
                Arguments.of("tiny-dance-diffusion", "cpu"),
                Arguments.of("tiny-dance-diffusion", "opencl"),
                Arguments.of("tiny-dance-diffusion", "cuda"),
                Arguments.of("mini-dance-diffusion", "cpu"),
                Arguments.of("mini-dance-diffusion", "opencl"),
                Arguments.of("mini-dance-diffusion", "cuda"));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void everyRecordPasses(String caseName, String device) throws Exception {
        Backends.Probe probe = Backends.probe(device);
        if (!probe.available()) {
            System.out.println("SKIPPED " + caseName + " on " + device + ": " + probe.reason());
        }
        Assumptions.assumeTrue(probe.available(), () -> device + " unavailable: " + probe.reason());
        Path dir = TestData.conformanceCase(caseName);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<ConformanceRunner.Result> results;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            results = new ConformanceRunner(dir, null, probe.backend(), Precision.AS_STORED, Set.of(), ps).run();
        }
        List<ConformanceRunner.Result> failed = results.stream().filter(r -> !r.pass()).toList();
        System.out.println(caseName + " on " + device + ": " + (results.size() - failed.size()) + " passed, "
                + failed.size() + " failed; worst relative error per kind: "
                + ConformanceCasesTest.worstPerKind(results));
        if (!failed.isEmpty()) {
            System.out.println(buf.toString(StandardCharsets.UTF_8));
        }
        assertTrue(results.size() > 100, "the case should have many records, got " + results.size());
        for (String kind : List.of("scheduler.", "unet_call.", "run.", "regenerate.", "interpolate.")) {
            assertTrue(results.stream().anyMatch(r -> r.name().startsWith(kind)), "no " + kind + " records");
        }
        assertEquals(List.of(), failed.stream().map(ConformanceRunner.Result::name).toList(),
                "failing records on " + device);
    }
}
