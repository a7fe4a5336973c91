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
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every record of every conformance case, through the same runner as {@code euterpe conformance}:
 * every case on every backend present (the scalar reference only on the smallest case, as it is
 * slow by design); absent backends are skipped with the reason.
 */
class ConformanceCasesTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("tiny-audioldm", "cpu"),
                Arguments.of("tiny-musicldm", "cpu"),
                Arguments.of("mini-audioldm-s", "cpu"),
                Arguments.of("tiny-audioldm", "scalar"),
                Arguments.of("tiny-audioldm", "opencl"),
                Arguments.of("tiny-musicldm", "opencl"),
                Arguments.of("mini-audioldm-s", "opencl"),
                Arguments.of("tiny-audioldm", "cuda"),
                Arguments.of("tiny-musicldm", "cuda"),
                Arguments.of("mini-audioldm-s", "cuda"));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void everyRecordPasses(String caseName, String device) throws Exception {
        replay(caseName, device, 100,
                (dir, backend, log) -> new ConformanceRunner(dir, null, backend, Precision.AS_STORED, Set.of(), log)
                        .run());
    }

    /** A family's conformance runner over one case folder. */
    @FunctionalInterface
    interface Replay {
        List<ConformanceRunner.Result> run(Path dir, Backend backend, PrintStream log) throws Exception;
    }

    /**
     * Replays {@code caseName} on {@code device} (skipped, with the reason, when the backend is absent),
     * prints a one-line summary, and fails on any failing record or fewer than {@code minRecords}. Every
     * family's conformance test goes through here.
     *
     * @return the results, for a family's own checks (which record kinds must be present)
     */
    static List<ConformanceRunner.Result> replay(String caseName, String device, int minRecords, Replay replay)
            throws Exception {
        Backends.Probe probe = Backends.probe(device);
        if (!probe.available()) {
            System.out.println("SKIPPED " + caseName + " on " + device + ": " + probe.reason());
        }
        Assumptions.assumeTrue(probe.available(), () -> device + " unavailable: " + probe.reason());
        Path dir = TestData.conformanceCase(caseName);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<ConformanceRunner.Result> results;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            results = replay.run(dir, probe.backend(), ps);
        }
        List<ConformanceRunner.Result> failed = results.stream().filter(r -> !r.pass()).toList();
        System.out.println(caseName + " on " + device + ": " + (results.size() - failed.size()) + " passed, "
                + failed.size() + " failed; worst relative error per kind: " + worstPerKind(results));
        if (!failed.isEmpty()) {
            System.out.println(buf.toString(StandardCharsets.UTF_8));
        }
        assertTrue(results.size() > minRecords, "the case should have many records, got " + results.size());
        assertEquals(List.of(), failed.stream().map(ConformanceRunner.Result::name).toList(),
                "failing records on " + device);
        return results;
    }

    /** The worst rel error per record kind (prompt, encode_prompt, unet_call, vae_decode, vocoder, run). */
    static String worstPerKind(List<ConformanceRunner.Result> results) {
        java.util.Map<String, Double> worst = new java.util.TreeMap<>();
        for (ConformanceRunner.Result r : results) {
            if (Double.isNaN(r.rel())) {
                continue;
            }
            String kind = r.name().substring(0, r.name().indexOf('.'));
            worst.merge(kind, r.rel(), Math::max);
        }
        StringBuilder sb = new StringBuilder();
        worst.forEach((k, v) -> sb.append(String.format(java.util.Locale.ROOT, "%s %.1e  ", k, v)));
        return sb.toString().trim();
    }
}
