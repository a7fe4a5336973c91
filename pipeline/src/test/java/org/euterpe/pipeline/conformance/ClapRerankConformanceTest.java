package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.euterpe.converter.Precision;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every record of {@code tiny-musicldm-rerank} (CLAP features, audio embeddings, text embeddings,
 * logits_per_text, order) through the same runner as {@code euterpe conformance}, on every backend present.
 */
class ClapRerankConformanceTest {
    @ParameterizedTest(name = "tiny-musicldm-rerank on {0}")
    @ValueSource(strings = {"scalar", "cpu", "opencl", "cuda"})
    void everyRecordPasses(String device) throws Exception {
        List<ConformanceRunner.Result> results = ConformanceCasesTest.replay("tiny-musicldm-rerank", device, 30,
                (dir, backend, log) -> new ConformanceRunner(dir, null, backend, Precision.AS_STORED, Set.of(), log)
                        .run());
        for (String kind : List.of("input_features", "is_longer", "audio_embeds", "audio_embeds (from audio)",
                "text_embeds", "logits_per_text", "order", "input_ids")) {
            assertTrue(results.stream().anyMatch(r -> r.name().endsWith("." + kind)), "no " + kind + " record");
        }
    }
}
