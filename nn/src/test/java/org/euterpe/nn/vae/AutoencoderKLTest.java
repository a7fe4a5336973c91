package org.euterpe.nn.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** VAE decode against the goldens (FORMAT.md section 6), and the encoder's shapes and sampling. */
@SuppressWarnings("try") // the Scope only frees what the test allocates
class AutoencoderKLTest {
    static final double TOL = 2e-5;

    static Backend backend(String name) {
        return name.equals("scalar") ? Backends.scalar() : Backends.cpu();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("tiny-audioldm", "scalar"), Arguments.of("tiny-audioldm", "cpu"),
                Arguments.of("tiny-musicldm", "scalar"), Arguments.of("tiny-musicldm", "cpu"),
                Arguments.of("mini-audioldm-s", "cpu")); // the mini decoder takes ~10 s on the scalar backend
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void decodeMatchesGolden(String caseName, String backendName) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        Backend backend = backend(backendName);
        try (ComponentFiles files = AutoencoderKL.open(dir);
                ConformanceGolden g = ConformanceGolden.open(caseName, caseName + "/" + backendName);
                Scope scope = Scope.open()) {
            AutoencoderKL vae = AutoencoderKL.load(files, backend);
            double recorded = g.json().getObject("vae_decode").getDouble("scaling_factor");
            assertEquals(recorded, vae.scalingFactor().orElseThrow(), "config scaling_factor");
            assertEquals(g.json().getObject("vae_decode").getInt("vae_scale_factor"), vae.vaeScaleFactor());

            ConformanceGolden.Recorder rec = new ConformanceGolden.Recorder();
            Tensor z = g.tensor(backend, "vae_decode.latents").div((float) recorded);
            Tensor mel = vae.decode(z, rec);
            g.check("vae_decode.mel", mel, TOL);
            for (String name : g.names("vae_decode.trace.")) {
                String module = name.substring("vae_decode.trace.".length());
                assertTrue(rec.values().containsKey(module), "the model did not record " + module);
                g.check(name, rec.shape(module), rec.values().get(module), TOL);
            }
            g.assertAllPassed();
        }
    }

    /**
     * No golden covers the encoder: check its geometry (sizes halve rounding down, as the
     * asymmetric padding makes them), that decode(encode(x)) returns x's shape for sizes that
     * divide, and the posterior's sampling formula.
     */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void encoderShapesAndSampling(String caseName, String backendName) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        Backend backend = backend(backendName);
        try (ComponentFiles files = AutoencoderKL.open(dir); Scope scope = Scope.open()) {
            AutoencoderKL vae = AutoencoderKL.load(files, backend);
            int f = vae.vaeScaleFactor();
            int c = vae.latentChannels();
            int h = 8 * f;
            int w = 2 * f;
            Tensor x = backend.randn(Shape.of(1, 1, h, w), 7);
            DiagonalGaussianDistribution d = vae.encode(x);
            assertArrayEquals(new int[] {1, c, h / f, w / f}, d.mean().shape().dims());
            assertArrayEquals(new int[] {1, c, h / f, w / f}, d.logvar().shape().dims());
            assertArrayEquals(new int[] {1, 1, h, w}, vae.decode(d.mean()).shape().dims());

            // an odd size: each downsampler pads one row/column at the end only, so sizes round down
            Tensor odd = backend.randn(Shape.of(2, 1, h - 1, w + 1), 8);
            DiagonalGaussianDistribution dOdd = vae.encode(odd);
            assertArrayEquals(new int[] {2, c, (h - 1) / f, (w + 1) / f}, dOdd.mean().shape().dims());

            // sample = mean + exp(logvar / 2) * noise, with logvar clamped to [-30, 20]
            Tensor noise = backend.randn(d.mean().shape(), 9);
            float[] s = d.sample(noise).toFloatArray();
            float[] mean = d.mean().toFloatArray();
            float[] logvar = d.logvar().toFloatArray();
            float[] n = noise.toFloatArray();
            for (int i = 0; i < s.length; i++) {
                double lv = Math.min(Math.max(logvar[i], -30), 20);
                double expected = mean[i] + Math.exp(0.5 * lv) * n[i];
                assertEquals(expected, s[i], 1e-5 * (1 + Math.abs(expected)), "sample[" + i + "]");
            }
        }
    }
}
