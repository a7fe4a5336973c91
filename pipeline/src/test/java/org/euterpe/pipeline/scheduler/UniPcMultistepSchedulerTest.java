package org.euterpe.pipeline.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * UniPC against diffusers 0.21.4's UniPCMultistepScheduler: unipc-reference.safetensors holds, per
 * option variant (see src/test/python/unipc_reference.py), the timesteps, sigmas, initial sample
 * and every step's model output and prev_sample of a 10-step run. The replay is open-loop like
 * SchedulerConformanceTest: step k gets the reference's sample, and prev_sample must match to
 * e <= 1e-6 (max abs error over max abs reference).
 */
class UniPcMultistepSchedulerTest {
    static final String FIXTURE = "unipc-reference.safetensors";

    @TestFactory
    List<DynamicTest> replaysTheReferenceForEveryVariant() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(fixture())) {
            for (Object v : (List<?>) Json.parseLenient(f.metadata().get("variants"))) {
                String variant = (String) v;
                tests.add(DynamicTest.dynamicTest(variant, () -> replay(variant)));
            }
        }
        assertTrue(tests.size() >= 10, "fixture variants: " + tests.size());
        return tests;
    }

    static void replay(String variant) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(fixture())) {
            JsonObject json = new JsonObject(Json.parseLenient(f.metadata().get(variant + ".config")), variant);
            Scheduler s = Scheduler.create(SamplerKind.UNIPC, SchedulerConfig.read(json, SamplerKind.UNIPC, Map.of()));
            s.setTimesteps(10);
            long[] refTs = f.longs(variant + ".timesteps");
            double[] ts = s.timesteps();
            assertEquals(refTs.length, ts.length, variant + ": number of timesteps");
            for (int i = 0; i < ts.length; i++) {
                assertEquals(refTs[i], ts[i], 0.0, variant + ": timestep " + i);
            }
            float[] refSigmas = f.floats(variant + ".sigmas");
            double es = SchedulerConformanceTest.relErr(s.sigmas(), refSigmas);
            assertTrue(es <= 1e-6, variant + ": sigmas e=" + es);
            assertEquals(1f, s.initNoiseSigma());

            float[] sample = f.floats(variant + ".initial_sample");
            double worst = 0;
            for (int k = 0; k < ts.length; k++) {
                float[] mo = f.floats(variant + ".step." + k + ".model_output");
                float[] prev = f.floats(variant + ".step." + k + ".prev_sample");
                assertEquals(sample, s.scaleModelInput(sample, k), "UniPC does not scale the U-Net input");
                double e = SchedulerConformanceTest.relErr(s.step(mo, k, sample, null), prev);
                worst = Math.max(worst, e);
                assertTrue(e <= SchedulerConformanceTest.STEP_TOLERANCE, variant + " step " + k + ": prev_sample e=" + e);
                sample = prev;
            }
            System.out.printf("unipc %-22s %2d steps, worst prev_sample e=%.2e%n", variant, ts.length, worst);
        }
    }

    static Path fixture() {
        try {
            return Path.of(UniPcMultistepSchedulerTest.class.getResource(FIXTURE).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource " + FIXTURE + " missing", e);
        }
    }

    /**
     * With order 1 and no corrector, UniP (bh2, x0) is the first-order DPM-Solver++ step:
     * {@code x_t = sigma_t/sigma_s x - alpha_t (e^-h - 1) x0}.
     */
    @Test
    void orderOneWithoutCorrectorIsFirstOrderDpmSolver() {
        Map<String, Object> common = Map.of("solver_order", 1L, "timestep_spacing", "trailing");
        Scheduler uni = Scheduler.create(SamplerKind.UNIPC, SchedulerTest.config(SamplerKind.UNIPC,
                withKey(common, "disable_corrector", List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L))));
        Scheduler dpm = Scheduler.create(SamplerKind.DPMPP_2M, SchedulerTest.config(SamplerKind.DPMPP_2M, common));
        uni.setTimesteps(8);
        dpm.setTimesteps(8);
        assertEquals(Arrays.toString(dpm.timesteps()), Arrays.toString(uni.timesteps()));
        Random r = new Random(3);
        float[] x = new float[32];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[] xu = x;
        float[] xd = x;
        for (int k = 0; k < 8; k++) {
            float[] eps = new float[x.length];
            for (int i = 0; i < eps.length; i++) {
                eps[i] = (float) Math.sin(xd[i] + k);
            }
            xu = uni.step(eps, k, xd, null);
            float[] next = dpm.step(eps, k, xd, null);
            assertTrue(SchedulerConformanceTest.relErr(xu, next) <= 1e-6, "step " + k);
            xd = next;
        }
    }

    /** The corrector for step k-1's prediction runs in step k: disabling it for 2 changes nothing before step 3. */
    @Test
    void disableCorrectorActsOnTheFollowingStep() {
        Scheduler on = Scheduler.create(SamplerKind.UNIPC, SchedulerTest.config(SamplerKind.UNIPC, Map.of()));
        Scheduler off = Scheduler.create(SamplerKind.UNIPC, SchedulerTest.config(SamplerKind.UNIPC,
                Map.of("disable_corrector", List.of(2L))));
        on.setTimesteps(6);
        off.setTimesteps(6);
        float[] x = new float[16];
        Arrays.fill(x, 0.5f);
        for (int k = 0; k < 6; k++) {
            float[] eps = new float[x.length];
            for (int i = 0; i < eps.length; i++) {
                eps[i] = (float) Math.cos(x[i] * (k + 1) + i);
            }
            float[] a = on.step(eps, k, x, null);
            float[] b = off.step(eps, k, x, null);
            boolean same = Arrays.equals(a, b);
            assertEquals(k < 3, same, "step " + k + ": the corrector for step 2's prediction runs in step 3");
            x = a;
        }
    }

    @Test
    void namesAndBadOptions() {
        assertEquals(SamplerKind.UNIPC, SamplerKind.fromCliName("unipc"));
        assertEquals(SamplerKind.UNIPC, TextToAudioPipeline.samplerOf("UniPCMultistepScheduler"));
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class, () -> Scheduler.create(
                SamplerKind.UNIPC, SchedulerTest.config(SamplerKind.UNIPC, Map.of("solver_type", "bh3"))));
        assertTrue(t.getMessage().contains("bh3"), t.getMessage());
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
                () -> SchedulerTest.config(SamplerKind.UNIPC, Map.of("solver_p", "DDIMScheduler")));
        assertTrue(p.getMessage().contains("solver_p"), p.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Scheduler.create(
                SamplerKind.UNIPC, SchedulerTest.config(SamplerKind.UNIPC, Map.of("solver_order", 0L))));
        assertThrows(IllegalArgumentException.class,
                () -> SchedulerTest.config(SamplerKind.UNIPC, Map.of("disable_corrector", List.of(1.5))));
        Scheduler s = Scheduler.create(SamplerKind.UNIPC, SchedulerTest.config(SamplerKind.UNIPC, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> s.step(new float[4], 0, new float[4], null),
                "step before setTimesteps");
    }

    /** solver_type defaults to bh2 for UniPC only; predict_x0 defaults to true. */
    @Test
    void solverTypeDefaultsPerSampler() {
        assertEquals("bh2", SchedulerTest.config(SamplerKind.UNIPC, Map.of()).solverType());
        assertEquals("midpoint", SchedulerTest.config(SamplerKind.DPMPP_2M, Map.of()).solverType());
        assertTrue(SchedulerTest.config(SamplerKind.UNIPC, Map.of()).predictX0());
    }

    private static Map<String, Object> withKey(Map<String, Object> m, String key, Object value) {
        Map<String, Object> out = new LinkedHashMap<>(m);
        out.put(key, value);
        return out;
    }
}
