package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    /**
     * The tiny case converted to f16, bf16 and int8 files meets the SNR floors the other families use (40 dB for
     * 16-bit weights, 25 dB for int8) on every record that goes through the weights; the lowest SNR per record
     * kind is printed.
     */
    @ParameterizedTest(name = "tiny-stable-audio as a {0} file")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"F16", "BF16", "I8"})
    void lowPrecisionFilesMeetTheSnrFloors(String dtype, @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path file = tmp.resolve("tiny-" + dtype + ".safetensors");
        org.euterpe.converter.Converter.convert(org.euterpe.tensor.TestData.conformanceCase("tiny-stable-audio"), file,
                org.euterpe.converter.Precision.recommended(org.euterpe.tensor.DType.valueOf(dtype)));
        java.util.List<ConformanceRunner.Result> results = ConformanceCasesTest.replay("tiny-stable-audio", "cpu", 150,
                (dir, backend, log) -> new StableAudioConformanceRunner(dir, file, backend, Set.of(), log).run());
        double floor = dtype.equals("I8") ? ConformanceRunner.SNR_INT8_DB : ConformanceRunner.SNR_16BIT_DB;
        java.util.Map<String, Double> lowest = new java.util.TreeMap<>();
        for (ConformanceRunner.Result r : results) {
            if (!Double.isNaN(r.snrDb())) {
                assertEquals(floor, r.tolerance(), r.name());
                lowest.merge(r.name().substring(0, r.name().indexOf('.')), r.snrDb(), Math::min);
            }
        }
        System.out.println("tiny-stable-audio " + dtype + " lowest SNR per kind (dB): " + lowest);
        assertTrue(lowest.keySet().containsAll(Set.of("prompt", "dit_call", "vae_decode", "run")),
                "records through the weights are judged by SNR: " + lowest.keySet());
    }
}
