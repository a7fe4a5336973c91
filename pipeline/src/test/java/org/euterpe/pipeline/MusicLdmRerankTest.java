package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;

/**
 * MusicLDM's re-ranking in the pipeline (diffusers' score_waveforms): several waveforms per prompt come back best
 * first by CLAP score; AudioLDM never re-ranks.
 */
class MusicLdmRerankTest {
    private static final Backend CPU = Backends.cpu();

    @Test
    void musicLdmReturnsItsWaveformsBestFirst() throws Exception {
        try (AudioModel m = AudioModel.load(TestData.conformanceCase("tiny-musicldm"), CPU)) {
            TextToAudioPipeline pipe = new TextToAudioPipeline(m);
            GenerationRequest req = GenerationRequest.builder("techno with a strong beat").seed(3).steps(2)
                    .seconds(0.5).waveformsPerPrompt(3).build();
            Map<String, float[]> trace = new HashMap<>();
            GenerationResult r = pipe.generate(req, ProgressListener.NONE, null, trace::put);
            float[] logits = trace.get("rerank.logits_per_text");
            float[] order = trace.get("rerank.order");
            assertEquals(3, logits.length);
            int[] best = ClapScorer.bestFirst(logits);
            assertArrayEquals(new float[] {best[0], best[1], best[2]}, order);
            // the outputs are the generated waveforms (trace "audio", generation order) permuted by that order
            float[] generated = trace.get("audio");
            int n = generated.length / 3;
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(Arrays.copyOfRange(generated, best[i] * n, (best[i] + 1) * n), r.waveforms()[i],
                        "output " + i);
            }
            // scoring the returned waveforms again gives descending logits, the same values
            float[] again = m.clapScorer().logitsPerText(List.of("techno with a strong beat"),
                    Arrays.asList(r.waveforms()), r.sampleRate())[0];
            for (int i = 0; i < 3; i++) {
                assertEquals(logits[best[i]], again[i], 1e-5f);
            }
            assertTrue(again[0] >= again[1] && again[1] >= again[2]);
            assertTrue(r.settings().containsKey("clap_scores"));
            // the scores are not all equal, so the order is a real ranking
            assertNotEquals(logits[best[0]], logits[best[2]]);
        }
    }

    @Test
    void aMusicLdmWithoutAFeatureExtractorIsRefusedBeforeGenerating(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        Path copy = tmp.resolve("m");
        Path src = TestData.conformanceCase("tiny-musicldm");
        try (var files = Files.walk(src)) {
            for (Path p : files.toList()) {
                Path to = copy.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!p.getFileName().toString().equals("preprocessor_config.json")
                        && !p.getFileName().toString().startsWith("golden")) {
                    Files.copy(p, to);
                }
            }
        }
        try (AudioModel m = AudioModel.load(copy, CPU)) {
            assertFalse(m.hasClapAudioBranch());
            TextToAudioPipeline pipe = new TextToAudioPipeline(m);
            GenerationRequest req = GenerationRequest.builder("a flute").seed(3).steps(1).seconds(0.2)
                    .waveformsPerPrompt(2).build();
            Exception e = assertThrows(IllegalArgumentException.class,
                    () -> pipe.generate(req, ProgressListener.NONE));
            assertTrue(e.getMessage().contains("feature_extractor"), e.getMessage());
            // one waveform per prompt needs no scoring
            GenerationRequest one = GenerationRequest.builder("a flute").seed(3).steps(1).seconds(0.2).build();
            assertEquals(1, pipe.generate(one, ProgressListener.NONE).waveforms().length);
        }
    }

    @Test
    void audioLdmDoesNotRerankAndCannotScore() throws Exception {
        try (AudioModel m = AudioModel.load(TestData.conformanceCase("tiny-audioldm"), CPU)) {
            assertFalse(m.hasClapAudioBranch());
            TextToAudioPipeline pipe = new TextToAudioPipeline(m);
            GenerationRequest req = GenerationRequest.builder("a flute").seed(3).steps(1).seconds(0.2)
                    .waveformsPerPrompt(2).build();
            Map<String, float[]> trace = new HashMap<>();
            GenerationResult r = pipe.generate(req, ProgressListener.NONE, null, trace::put);
            assertFalse(trace.containsKey("rerank.order"));
            assertFalse(r.settings().containsKey("clap_scores"));
            Exception e = assertThrows(RuntimeException.class, m::clapScorer);
            assertTrue(e.getMessage().contains("ships only the CLAP text branch"), e.getMessage());
        }
    }
}
