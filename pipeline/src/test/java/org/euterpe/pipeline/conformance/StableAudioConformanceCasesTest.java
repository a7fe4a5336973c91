package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.stream.Stream;

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
        ConformanceCasesTest.replay(caseName, device, 400, (dir, backend, log) -> {
            assertTrue(StableAudioConformanceRunner.isStableAudioCase(dir));
            return new StableAudioConformanceRunner(dir, null, backend, Set.of(), log).run();
        });
    }
}
