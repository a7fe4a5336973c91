package org.euterpe.pipeline.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CosineDPMSolverMultistepScheduler against the Stable Audio goldens: the {@code scheduler.N} schedules
 * (timesteps, sigmas, init_noise_sigma; 1e-6 relative) and every step of every run replayed open-loop in
 * order on one instance, with the recorded model output, sample and SDE noise (prev_sample within 1e-6).
 */
class CosineDPMSolverMultistepSchedulerConformanceTest {
    private static final double TOL = 1e-6;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-stable-audio", "mini-stable-audio"})
    void schedulesAndStepsMatch(String caseName) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        JsonObject golden = new JsonObject(Json.parseLenient(Files.readString(dir.resolve("golden.json"))), caseName);
        JsonObject sched = golden.getObject("scheduler");
        JsonObject config = new JsonObject(Json.parse(Files.readString(dir.resolve("scheduler/scheduler_config.json"))),
                "scheduler_config.json");
        int steps = 0;
        double worst = 0;
        try (SafetensorsFile st = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            for (Object o : sched.getList("schedules")) {
                JsonObject s = new JsonObject(o, "schedules");
                int n = s.getInt("steps");
                CosineDPMSolverMultistepScheduler sch = CosineDPMSolverMultistepScheduler.fromConfig(config);
                sch.setTimesteps(n);
                assertEquals(s.getDouble("init_noise_sigma"), sch.initNoiseSigma(), 1e-9, "init_noise_sigma");
                double[] t = sch.timesteps();
                float[] tf = new float[t.length];
                for (int i = 0; i < t.length; i++) {
                    tf[i] = (float) t[i];
                }
                worst = Math.max(worst, check("scheduler." + n + ".timesteps", tf, st.floats("scheduler." + n + ".timesteps")));
                worst = Math.max(worst, check("scheduler." + n + ".sigmas", sch.sigmas(), st.floats("scheduler." + n + ".sigmas")));
            }
            for (Object o : golden.getList("runs")) {
                JsonObject run = new JsonObject(o, "runs");
                String name = run.getString("name");
                int n = run.getObject("pipeline_call").getInt("num_inference_steps");
                CosineDPMSolverMultistepScheduler sch = CosineDPMSolverMultistepScheduler.fromConfig(config);
                sch.setTimesteps(n);
                worst = Math.max(worst, check(name + ".sigmas", sch.sigmas(), st.floats(name + ".sigmas")));
                for (int k = 0; k < n; k++) {
                    String p = name + ".step." + k + ".";
                    assertEquals(st.floats(p + "timestep")[0], (float) sch.timesteps()[k], 1e-6, p + "timestep");
                    float[] noise = st.floats(p + "noise");
                    float[] prev = sch.step(st.floats(p + "model_output"), k, st.floats(p + "sample"), m -> noise);
                    worst = Math.max(worst, check(p + "prev_sample", prev, st.floats(p + "prev_sample")));
                    steps++;
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s: %d steps replayed, worst e %.2e%n", caseName, steps, worst);
    }

    private static double check(String what, float[] got, float[] ref) {
        assertEquals(ref.length, got.length, what + ": length");
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) got[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        double e = maxRef == 0 ? maxDiff : maxDiff / maxRef;
        assertTrue(e <= TOL, what + ": e=" + e);
        return e;
    }

    @Test
    void badConfigNamesTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CosineDPMSolverMultistepScheduler
                .fromConfig(new JsonObject(Json.parse("{\"sigma_schedule\": \"linear\"}"), "cfg")));
        assertTrue(e.getMessage().contains("sigma_schedule"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CosineDPMSolverMultistepScheduler
                .fromConfig(new JsonObject(Json.parse("{\"use_karras\": true}"), "cfg")));
        assertTrue(e.getMessage().contains("use_karras"), e.getMessage());
        CosineDPMSolverMultistepScheduler s = CosineDPMSolverMultistepScheduler
                .fromConfig(new JsonObject(Json.parse("{}"), "cfg"));
        s.setTimesteps(3);
        assertThrows(IllegalArgumentException.class, () -> s.step(new float[2], 1, new float[2], m -> new float[m]));
    }
}
