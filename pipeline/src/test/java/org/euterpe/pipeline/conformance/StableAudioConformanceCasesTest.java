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

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every record of the Stable Audio conformance cases through the runner of {@code euterpe conformance}: the
 * tiny case on every backend present (scalar included), the mini case on the fast ones; an absent backend
 * is skipped with its reason.
 */
class StableAudioConformanceCasesTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("tiny-stable-audio", "scalar"),
                Arguments.of("tiny-stable-audio", "cpu"),
                Arguments.of("mini-stable-audio", "cpu"),
                Arguments.of("tiny-stable-audio", "opencl"),
                Arguments.of("mini-stable-audio", "opencl"),
                Arguments.of("tiny-stable-audio", "cuda"),
                Arguments.of("mini-stable-audio", "cuda"));
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
        assertTrue(StableAudioConformanceRunner.isStableAudioCase(dir));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<ConformanceRunner.Result> results;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            results = new StableAudioConformanceRunner(dir, null, probe.backend(), Set.of(), ps).run();
        }
        List<ConformanceRunner.Result> failed = results.stream().filter(r -> !r.pass()).toList();
        System.out.println(caseName + " on " + device + ": " + (results.size() - failed.size()) + " passed, "
                + failed.size() + " failed; worst relative error per kind: "
                + ConformanceCasesTest.worstPerKind(results));
        if (!failed.isEmpty()) {
            System.out.println(buf.toString(StandardCharsets.UTF_8));
        }
        assertTrue(results.size() > 400, "the case should have many records, got " + results.size());
        assertEquals(List.of(), failed.stream().map(ConformanceRunner.Result::name).toList(),
                "failing records on " + device);
    }
}
