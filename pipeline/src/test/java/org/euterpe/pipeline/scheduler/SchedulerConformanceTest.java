package org.euterpe.pipeline.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays every scheduler record of the conformance runs open-loop: the recorded
 * {@code model_output} and {@code sample} of step k go into our sampler, in order on one
 * instance, and {@code prev_sample} must match (FORMAT.md section 8: e <= 1e-6). Timesteps,
 * sigmas and alphas_cumprod are checked too.
 */
class SchedulerConformanceTest {
    static final double STEP_TOLERANCE = 1e-6;

    static Stream<String> cases() {
        return Stream.of("tiny-audioldm", "tiny-musicldm", "mini-audioldm-s");
    }

    @TestFactory
    Stream<DynamicTest> everyRunOfEveryCase() {
        return cases().flatMap(name -> {
            Path dir;
            try {
                dir = TestData.conformanceCase(name);
            } catch (org.opentest4j.TestAbortedException e) {
                return Stream.of(DynamicTest.dynamicTest(name + " (skipped)", () -> {
                    throw e;
                }));
            }
            return runsOf(dir).stream();
        });
    }

    @SuppressWarnings("unchecked")
    static List<DynamicTest> runsOf(Path dir) {
        List<DynamicTest> tests = new ArrayList<>();
        try {
            JsonObject golden = new JsonObject(Json.parseLenient(Files.readString(dir.resolve("golden.json"))),
                    dir + "/golden.json");
            for (Object r : golden.getList("runs")) {
                JsonObject run = new JsonObject(r, "run");
                String name = run.getString("name");
                tests.add(DynamicTest.dynamicTest(dir.getFileName() + " " + name, () -> replay(dir, run)));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return tests;
    }

    static void replay(Path dir, JsonObject run) throws IOException {
        String prefix = run.getString("name"); // "run.ddim"
        SamplerKind kind = TextToAudioPipeline.samplerOf(run.getString("scheduler_class"));
        SchedulerConfig config = SchedulerConfig.read(run.getObject("scheduler_config"), kind, Map.of());
        Scheduler s = Scheduler.create(kind, config);
        int steps = run.getObject("pipeline_call").getInt("num_inference_steps");
        s.setTimesteps(steps);
        try (SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            float[] ac = g.floats(prefix + ".alphas_cumprod");
            assertArrayEquals(ac, s.alphasCumprod(), prefix + ": alphas_cumprod must be bit-identical");

            double[] ts = s.timesteps();
            float[] refTs = g.floats(prefix + ".timesteps");
            assertEquals(refTs.length, ts.length, prefix + ": number of timesteps");
            for (int i = 0; i < ts.length; i++) {
                if (s.integerTimesteps()) {
                    assertEquals(refTs[i], ts[i], 0.0, prefix + ": timestep " + i);
                } else {
                    assertEquals(refTs[i], ts[i], 1e-6 * Math.max(1, Math.abs(refTs[i])), prefix + ": timestep " + i);
                }
            }
            if (g.contains(prefix + ".sigmas")) {
                float[] ref = g.floats(prefix + ".sigmas");
                float[] got = s.sigmas();
                assertEquals(ref.length, got.length, prefix + ": number of sigmas");
                assertTrue(relErr(got, ref) <= 1e-6, prefix + ": sigmas e=" + relErr(got, ref));
            }
            assertEquals(run.getDouble("init_noise_sigma"), s.initNoiseSigma(),
                    1e-6 * run.getDouble("init_noise_sigma"), prefix + ": init_noise_sigma");

            int calls = run.getInt("num_scheduler_steps");
            double worst = 0;
            for (int k = 0; k < calls; k++) {
                final int step = k;
                float[] mo = g.floats(prefix + ".step." + k + ".model_output");
                float[] sample = g.floats(prefix + ".step." + k + ".sample");
                float[] prev = g.floats(prefix + ".step." + k + ".prev_sample");
                // scale_model_input: the U-Net input is the (CFG-doubled) scaled sample.
                float[] unetIn = g.floats(prefix + ".unet." + k + ".sample");
                float[] scaled = s.scaleModelInput(sample, k);
                float[] firstHalf = java.util.Arrays.copyOf(unetIn, scaled.length);
                double es = relErr(scaled, firstHalf);
                assertTrue(es <= STEP_TOLERANCE, prefix + " step " + k + ": scale_model_input e=" + es);

                NoiseSource noise = n -> {
                    try {
                        return g.floats(prefix + ".noise." + step);
                    } catch (RuntimeException e) {
                        throw new IllegalStateException("no recorded noise for step " + step, e);
                    }
                };
                float[] got = s.step(mo, k, sample, noise);
                double e = relErr(got, prev);
                worst = Math.max(worst, e);
                assertTrue(e <= STEP_TOLERANCE, prefix + " step " + k + ": prev_sample e=" + e);
            }
            System.out.printf("%s %-40s %2d steps, worst prev_sample e=%.2e%n", dir.getFileName(), prefix, calls,
                    worst);
        }
    }

    /** max |x - ref| / max |ref|. */
    static double relErr(float[] x, float[] ref) {
        assertEquals(ref.length, x.length, "length");
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < x.length; i++) {
            maxErr = Math.max(maxErr, Math.abs((double) x[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxRef == 0 ? maxErr : maxErr / maxRef;
    }
}
