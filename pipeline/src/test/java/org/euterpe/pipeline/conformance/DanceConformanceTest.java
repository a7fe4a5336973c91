package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.euterpe.converter.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every record of the Dance Diffusion cases (FORMAT-DANCE.md: schedules, isolated U-Net calls with
 * traces, IPNDM runs closed and open loop, regenerate, interpolate) through the runner of
 * {@code euterpe conformance}: tiny on every backend, mini (13 levels, the real block layout) on
 * the fast ones; mini on the scalar reference is opt-in (about 8 minutes on two loaded cores:
 * {@code -Deuterpe.soak=true -Dtest='DanceConformanceTest#miniOnTheScalarReference'}). Absent
 * backends are skipped with the reason.
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
        List<ConformanceRunner.Result> results = ConformanceCasesTest.replay(caseName, device, 100,
                (dir, backend, log) -> new ConformanceRunner(dir, null, backend, Precision.AS_STORED, Set.of(), log)
                        .run());
        for (String kind : List.of("scheduler.", "unet_call.", "run.", "regenerate.", "interpolate.")) {
            assertTrue(results.stream().anyMatch(r -> r.name().startsWith(kind)), "no " + kind + " records");
        }
    }

    @Test
    @EnabledIfSystemProperty(named = "euterpe.soak", matches = "true",
            disabledReason = "SKIPPED: mini-dance-diffusion on scalar takes minutes; opt-in with -Deuterpe.soak=true")
    void miniOnTheScalarReference() throws Exception {
        everyRecordPasses("mini-dance-diffusion", "scalar");
    }
}
