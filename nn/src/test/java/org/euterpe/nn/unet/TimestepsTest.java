package org.euterpe.nn.unet;

import java.io.IOException;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sinusoidal embedding of the recorded integer timestep (801) against the recorded
 * {@code time_proj}: the float32 steps must follow torch's, since at an argument of ~800 one
 * rounding difference in {@code t * freq} moves sin/cos by ~5e-5. (torch's vectorised exp/sin
 * are within 1 ulp, not correctly rounded, so a few ulp remain.)
 */
class TimestepsTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-audioldm", "tiny-musicldm"})
    void matchesRecordedTimeProj(String caseName) throws IOException {
        try (ConformanceGolden g = ConformanceGolden.open(caseName, caseName)) {
            String call = "unet_call.0"; // the only call recorded with a trace
            int channels = g.json().getObject("tensors").getObject(call + ".trace.time_proj").getIntArray("shape")[1];
            Timesteps t = new Timesteps(channels, true, 0);
            float ts = g.scalar(call + ".timestep");
            Tensor emb = t.forward(Backends.scalar(), new float[] {ts, ts});
            g.check(call + ".trace.time_proj", emb, 2e-6);
            g.assertAllPassed();
        }
    }
}
