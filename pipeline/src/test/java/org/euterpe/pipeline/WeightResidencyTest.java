package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Releasing each stage's mapped weights after it changes no output, and random benchmark weights
 * live in temporary files that are deleted however the model's life ends.
 */
class WeightResidencyTest {
    // One step with guidance: every stage runs, the U-Net with a CFG batch.
    private static final GenerationRequest REQUEST = GenerationRequest.builder("rain on a tin roof").seconds(0.064)
            .steps(2).seed(8).build();

    @Test
    void releasingWeightsAfterEachStageKeepsOutputsBitIdenticalAcrossGenerations() throws Exception {
        try (TextToAudioPipeline keep = new TextToAudioPipeline(AudioModel.load(BundledModel.folder(),
                Backends.cpu()), WeightResidency.KEEP);
                TextToAudioPipeline release = new TextToAudioPipeline(AudioModel.load(BundledModel.folder(),
                        Backends.cpu()), WeightResidency.RELEASE_AFTER_STAGE)) {
            GenerationResult expected = keep.generate(REQUEST, ProgressListener.NONE);
            PipelineReliabilityTest.assertBitIdentical(expected, release.generate(REQUEST, ProgressListener.NONE),
                    "first generation");
            PipelineReliabilityTest.assertBitIdentical(expected, release.generate(REQUEST, ProgressListener.NONE),
                    "second generation, weights faulted back in");
            for (String c : RandomModel.COMPONENTS) {
                assertTrue(release.model().releaseWeights(c) > 0, c + "'s weights are mapped, so there was"
                        + " something to release");
            }
        }
    }

    @Test
    void randomWeightsAreMappedFromFilesThatCloseDeletes(@TempDir Path tmp) throws Exception {
        AudioModel m = RandomModel.build(BundledModel.folder(), Backends.cpu(), DType.F32, 3,
                java.util.Set.copyOf(RandomModel.COMPONENTS), tmp);
        try (TextToAudioPipeline pipe = new TextToAudioPipeline(m, WeightResidency.RELEASE_AFTER_STAGE)) {
            GenerationResult first = pipe.generate(REQUEST, ProgressListener.NONE);
            PipelineReliabilityTest.assertBitIdentical(first, pipe.generate(REQUEST, ProgressListener.NONE),
                    "random weights released and faulted back in");
            assertTrue(m.releaseWeights("unet") > 0, "the U-Net's random weights are mapped");
        }
        assertEquals(0, entries(tmp));
        assertThrows(IllegalStateException.class, () -> m.releaseWeights("unet"));
    }

    @Test
    void aFailedBuildLeavesNoTemporaryFile(@TempDir Path tmp) throws Exception {
        Path configs = tmp.resolve("configs");
        Path weights = Files.createDirectory(tmp.resolve("weights"));
        copyConfigs(BundledModel.folder(), configs);
        // The vocoder is built last, after the other components' files are written.
        Files.writeString(configs.resolve("vocoder/config.json"), "{ not json");
        assertThrows(RuntimeException.class, () -> RandomModel.build(configs, Backends.cpu(), DType.F32, 3,
                java.util.Set.copyOf(RandomModel.COMPONENTS), weights));
        assertEquals(0, entries(weights));
    }

    private static void copyConfigs(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.filter(Files::isRegularFile).filter(p -> !p.toString().endsWith(".safetensors"))
                    .toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                Files.createDirectories(target.getParent());
                Files.copy(p, target);
            }
        }
    }

    private static long entries(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }
}
