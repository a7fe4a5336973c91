package org.euterpe.pipeline.dance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.AudioPipeline;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationCancelledException;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.StepTrace;
import org.euterpe.tensor.NormalNoise;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;

/** The Java API of Dance Diffusion on the tiny model: dispatch, request checks, the verbs' limits. */
class DanceDiffusionPipelineTest {

    private static DanceDiffusionPipeline load() throws Exception {
        return DanceDiffusionPipeline.load(TestData.conformanceCase("tiny-dance-diffusion"), Backends.cpu(),
                Precision.AS_STORED);
    }

    @Test
    void euterpeLoadDispatchesOnTheModelIndex() throws Exception {
        try (AudioPipeline p = Euterpe.load(TestData.conformanceCase("tiny-dance-diffusion"),
                Euterpe.Options.defaults().withDevice("cpu"))) {
            assertInstanceOf(DanceDiffusionPipeline.class, p);
            assertEquals("DanceDiffusionPipeline", p.pipelineClass());
            assertEquals(2, p.channels());
            assertEquals(16000, p.sampleRate());
            assertTrue(!p.takesPrompts());
            GenerationResult r = p.generate(GenerationRequest.builder().steps(2).seconds(0.002).seed(3)
                    .waveformsPerPrompt(2).build(), ProgressListener.NONE);
            assertEquals(2, r.waveforms().length);
            assertEquals(2, r.channels());
            assertEquals(32, r.frames(0)); // int(0.002 * 16000)
            assertEquals("generate", r.settings().get("verb"));
        }
    }

    @Test
    void optionsOfTextModelsAreRefusedByName() throws Exception {
        try (DanceDiffusionPipeline p = load()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> p.generate(GenerationRequest.builder("piano").build(), ProgressListener.NONE));
            assertTrue(e.getMessage().contains("no prompt"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> p.generate(GenerationRequest.builder().guidanceScale(3).build(), ProgressListener.NONE));
            assertTrue(e.getMessage().contains("guidance"), e.getMessage());
        }
    }

    @Test
    void oneStepGivesExactZerosAndCancellingStops() throws Exception {
        try (DanceDiffusionPipeline p = load()) {
            DanceGeometry geo = p.geometry(null);
            float[] noise = NormalNoise.sample(1, 2 * geo.padded());
            DanceDiffusionPipeline.Audio a = p.generate(1, 1, geo, noise, ProgressListener.NONE, StepTrace.NONE);
            assertArrayEquals(new float[a.audio().length], a.audio()); // sigma_1 = 0 and alpha_0 = 0
            ProgressListener stop = new ProgressListener() {
                @Override
                public boolean onStep(int step, int total) {
                    return step < 2;
                }
            };
            assertThrows(GenerationCancelledException.class,
                    () -> p.generate(1, 5, geo, noise, stop, StepTrace.NONE));
        }
    }

    @Test
    void regenerateAtATinyNoiseLevelReturnsTheInput() throws Exception {
        try (DanceDiffusionPipeline p = load()) {
            int len = 64;
            float[] input = NormalNoise.sample(5, 2 * len);
            float[] noise = NormalNoise.sample(6, 2 * len);
            // below the first crash time above 0: no U-Net call, the input itself
            float[] same = p.regenerate(input, noise, 1, len, 1e-4f, 100, ProgressListener.NONE, StepTrace.NONE);
            assertArrayEquals(input, same);
            // one step from t' = 1.6e-4: alpha ~ 1, sigma ~ 2.5e-4, so the input comes back to ~1e-3
            float[] close = p.regenerate(input, noise, 1, len, 1e-3f, 100, ProgressListener.NONE, StepTrace.NONE);
            double max = 0;
            for (int i = 0; i < input.length; i++) {
                max = Math.max(max, Math.abs(close[i] - input[i]));
            }
            assertTrue(max > 0 && max < 1e-2, "max difference " + max);
            assertThrows(IllegalArgumentException.class, () -> DanceDiffusionPipeline.regenerateSchedule(0f, 10));
            assertThrows(IllegalArgumentException.class, () -> DanceDiffusionPipeline.regenerateSchedule(1.5f, 10));
        }
    }
}
