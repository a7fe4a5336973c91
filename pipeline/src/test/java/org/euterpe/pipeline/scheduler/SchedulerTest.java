package org.euterpe.pipeline.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import org.euterpe.tensor.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Scheduler options the conformance runs do not exercise (they all use leading spacing and epsilon). */
class SchedulerTest {

    static SchedulerConfig config(SamplerKind kind, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("beta_schedule", "scaled_linear");
        m.put("beta_start", 0.00085);
        m.put("beta_end", 0.012);
        m.put("clip_sample", false);
        m.put("set_alpha_to_one", false);
        m.putAll(extra);
        return SchedulerConfig.read(new JsonObject(m, "test"), kind, Map.of());
    }

    @Test
    void ddimSpacingsFollowTheReferenceFormulas() {
        Scheduler trailing = Scheduler.create(SamplerKind.DDIM, config(SamplerKind.DDIM, Map.of("timestep_spacing", "trailing")));
        trailing.setTimesteps(10);
        assertArrayEquals(new double[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}, trailing.timesteps());

        Scheduler linspace = Scheduler.create(SamplerKind.DDIM, config(SamplerKind.DDIM, Map.of("timestep_spacing", "linspace")));
        linspace.setTimesteps(10);
        // round(linspace(0, 999, 10)) reversed; 999/9 = 111 exactly
        assertArrayEquals(new double[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0}, linspace.timesteps());

        Scheduler offset = Scheduler.create(SamplerKind.DDIM, config(SamplerKind.DDIM, Map.of("steps_offset", 1L)));
        offset.setTimesteps(4);
        assertArrayEquals(new double[] {751, 501, 251, 1}, offset.timesteps());
    }

    @Test
    void eulerLinspaceKeepsFractionalTimesteps() {
        Scheduler s = Scheduler.create(SamplerKind.EULER, config(SamplerKind.EULER, Map.of()));
        s.setTimesteps(4); // default spacing for Euler is linspace: 999, 666, 333, 0
        assertArrayEquals(new double[] {999, 666, 333, 0}, s.timesteps(), 1e-4);
        s.setTimesteps(7); // 999/6 = 166.5: fractions stay
        assertEquals(832.5, s.timesteps()[1], 1e-3);
        assertEquals(s.sigmas()[0], s.initNoiseSigma(), 0f, "linspace: init sigma is the max sigma");
    }

    /** The same step, expressed as epsilon or as v, must land on the same sample. */
    @ParameterizedTest
    @EnumSource(value = SamplerKind.class, names = {"DDIM", "EULER", "DPMPP_2M", "LMS", "HEUN", "UNIPC"})
    void vPredictionIsConsistentWithEpsilon(SamplerKind kind) {
        Scheduler eps = Scheduler.create(kind, config(kind, Map.of("timestep_spacing", "leading")));
        Scheduler v = Scheduler.create(kind, config(kind, Map.of("timestep_spacing", "leading", "prediction_type", "v_prediction")));
        eps.setTimesteps(6);
        v.setTimesteps(6);
        Random r = new Random(7);
        int n = 64;
        float[] x0 = new float[n];
        float[] noise = new float[n];
        for (int i = 0; i < n; i++) {
            x0[i] = (float) r.nextGaussian();
            noise[i] = (float) r.nextGaussian();
        }
        float[] sampleEps = new float[n];
        float[] sampleV = new float[n];
        double[] ts = eps.timesteps();
        for (int k = 0; k < ts.length; k++) {
            // Both schedulers see the same VP-space latent x = a*x0 + s*eps; sigma samplers work on x/a.
            double ac = eps.alphasCumprod()[(int) Math.round(ts[k])];
            double a = Math.sqrt(ac);
            double s = Math.sqrt(1 - ac);
            float[] vTarget = new float[n];
            for (int i = 0; i < n; i++) {
                vTarget[i] = (float) (a * noise[i] - s * x0[i]);
            }
            if (k == 0) {
                boolean sigmaSpace = eps instanceof SigmaScheduler;
                for (int i = 0; i < n; i++) {
                    double xt = a * x0[i] + s * noise[i];
                    sampleEps[i] = (float) (sigmaSpace ? xt / a : xt);
                    sampleV[i] = sampleEps[i];
                }
            }
            float[] pe = eps.step(noise, k, sampleEps, null);
            float[] pv = v.step(vTarget, k, sampleV, null);
            for (int i = 0; i < n; i++) {
                assertEquals(pe[i], pv[i], 2e-3 * Math.max(1, Math.abs(pe[i])), kind + " step " + k + " element " + i);
            }
            sampleEps = pe;
            sampleV = pv;
        }
    }

    @Test
    void karrasSigmasSpanTheScheduleAndDecrease() {
        Scheduler s = Scheduler.create(SamplerKind.EULER, config(SamplerKind.EULER, Map.of("use_karras_sigmas", true)));
        s.setTimesteps(12);
        float[] sig = s.sigmas();
        assertEquals(13, sig.length);
        for (int i = 1; i < 12; i++) {
            assertTrue(sig[i] < sig[i - 1], "Karras sigmas decrease");
        }
        assertEquals(0f, sig[12]);
        double[] ts = s.timesteps();
        for (int i = 1; i < ts.length; i++) {
            assertTrue(ts[i] < ts[i - 1], "timesteps follow the sigmas");
        }
    }

    @Test
    void pndmSkipPrkStepsRepeatsTheSecondToLastTimestep() {
        Scheduler s = Scheduler.create(SamplerKind.PNDM, config(SamplerKind.PNDM, Map.of("skip_prk_steps", true)));
        s.setTimesteps(5);
        assertArrayEquals(new double[] {800, 600, 600, 400, 200, 0}, s.timesteps());
    }

    @Test
    void badInputIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> config(SamplerKind.DDIM, Map.of("bogus_option", 1)));
        assertTrue(e.getMessage().contains("bogus_option"), e.getMessage());
        Scheduler s = Scheduler.create(SamplerKind.DDIM, config(SamplerKind.DDIM, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(0));
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(1001));
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> SamplerKind.fromCliName("dpm3"));
        assertTrue(u.getMessage().contains("euler-a"), u.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> config(SamplerKind.DDIM, Map.of("prediction_type", "x_start")));
    }
}
