package org.euterpe.nn.oobleck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.stableaudio.StableAudioBackends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * AutoencoderOobleck against the Stable Audio goldens: the decode of the recorded latents (and the
 * decoder's traces) and the encode of the recorded audio (encoder traces, posterior mean and std, and the
 * sample from the recorded noise), within FORMAT.md's VAE tolerance 2e-5.
 */
class AutoencoderOobleckConformanceTest {
    private static final double TOLERANCE = 2e-5;

    static Stream<Arguments> cases() {
        return StableAudioBackends.cases("tiny-stable-audio", "mini-stable-audio");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void matchesGoldens(String caseName, String device) throws Exception {
        Backend backend = StableAudioBackends.open(device);
        try (ConformanceGolden golden = ConformanceGolden.open(caseName, caseName + "/" + device);
                ComponentFiles files = ComponentFiles.open(golden.dir(), "vae");
                Scope scope = Scope.open()) {
            AutoencoderOobleck vae = AutoencoderOobleck.load(files, backend);
            Map<String, float[]> trace = new HashMap<>();
            Tensor audio = vae.decode(golden.tensor(backend, "vae_decode.latents"),
                    (name, t) -> trace.put(name, t.toFloatArray()));
            checkTraces(golden, "vae_decode.trace.", trace);
            golden.check("vae_decode.audio", audio, TOLERANCE);

            trace.clear();
            OobleckDiagonalGaussianDistribution posterior = vae.encode(golden.tensor(backend, "vae_encode.audio"),
                    (name, t) -> trace.put(name, t.toFloatArray()));
            checkTraces(golden, "vae_encode.trace.", trace);
            golden.check("vae_encode.mean", posterior.mean(), TOLERANCE);
            golden.check("vae_encode.std", posterior.std(), TOLERANCE);
            golden.check("vae_encode.scale", posterior.scale(), TOLERANCE); // recorded before softplus
            golden.check("vae_encode.sample", posterior.sample(golden.tensor(backend, "vae_encode.noise")), TOLERANCE);
            golden.assertAllPassed();
        }
    }

    private static void checkTraces(ConformanceGolden golden, String prefix, Map<String, float[]> trace) {
        for (String record : golden.names()) {
            if (record.startsWith(prefix)) {
                float[] x = trace.get(record.substring(prefix.length()));
                assertTrue(x != null, "no trace for " + record);
                golden.check(record, x, TOLERANCE);
            }
        }
    }
}
