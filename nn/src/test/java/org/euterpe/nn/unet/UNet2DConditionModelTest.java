package org.euterpe.nn.unet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.Trace;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays the recorded UNet calls of the conformance goldens (FORMAT.md section 5) and compares
 * the output and every recorded module output with e = max|x - ref| / max|ref|.
 */
@SuppressWarnings("try") // the Scope only frees what the test allocates
class UNet2DConditionModelTest {
    static final double TOL = 1e-5;
    static final double TOL_GUIDED = 2e-5;
    static final float GUIDANCE = 2.5f;

    static Backend backend(String name) {
        return switch (name) {
            case "scalar" -> Backends.scalar();
            case "cpu" -> Backends.cpu();
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** The tiny cases on every CPU backend; the mini case (wider, 4 levels) on the fast one only. */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("tiny-audioldm", "scalar"), Arguments.of("tiny-audioldm", "cpu"),
                Arguments.of("tiny-musicldm", "scalar"), Arguments.of("tiny-musicldm", "cpu"),
                Arguments.of("mini-audioldm-s", "cpu"));
    }

    /** {@link #cases()}, plus the mini case on the scalar reference for its first call only (seconds each). */
    static Stream<Arguments> callCases() {
        return Stream.concat(cases(), Stream.of(Arguments.of("mini-audioldm-s", "scalar")));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("callCases")
    void unetCallsMatchGoldens(String caseName, String backendName) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        Backend backend = backend(backendName);
        try (ComponentFiles files = ComponentFiles.open(dir, "unet");
                ConformanceGolden g = ConformanceGolden.open(caseName, caseName + "/" + backendName);
                Scope scope = Scope.open()) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(files, backend);
            boolean slow = caseName.startsWith("mini") && backendName.equals("scalar");
            for (String call : slow ? List.of("unet_call.0") : List.of("unet_call.0", "unet_call.1")) {
                ConformanceGolden.Recorder rec = new ConformanceGolden.Recorder();
                Tensor out = unet.forward(g.tensor(backend, call + ".sample"),
                        new float[] {g.scalar(call + ".timestep")}, null,
                        g.tensor(backend, call + ".class_labels"), rec);
                g.check(call + ".out", out, TOL);
                List<String> traced = g.names(call + ".trace.");
                assertTrue(!traced.isEmpty() || !call.endsWith(".0"), call + ": no trace records in the golden");
                for (String name : traced) {
                    String module = name.substring((call + ".trace.").length());
                    assertTrue(rec.values().containsKey(module), call + ": the model did not record " + module);
                    g.check(name, rec.shape(module), rec.values().get(module), TOL);
                }
                if (g.has(call + ".guided_" + GUIDANCE)) {
                    int[] dims = out.shape().dims().clone();
                    dims[0] /= 2;
                    g.check(call + ".guided_" + GUIDANCE, dims, guide(out.toFloatArray()), TOL_GUIDED);
                }
            }
            g.assertAllPassed();
        }
    }

    /**
     * A latent height that is not a multiple of the total downsampling (31 for tiny, 13 for mini):
     * the upsamplers must resize to the skip sizes. Replays the first UNet call of the recorded
     * odd-length run (batch 4 = CFG over 2 prompts).
     */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void oddLatentSizeMatchesGolden(String caseName, String backendName) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        Backend backend = backend(backendName);
        String run = "run.dpmpp2m_oddlength_batch2";
        try (ComponentFiles files = ComponentFiles.open(dir, "unet");
                ConformanceGolden g = ConformanceGolden.open(caseName, caseName + "/" + backendName);
                Scope scope = Scope.open()) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(files, backend);
            Tensor sample = g.tensor(backend, run + ".unet.0.sample");
            assertTrue(sample.dim(2) % 2 != 0, "the run should have an odd latent height: " + sample.shape());
            Tensor out = unet.forward(sample, new float[] {g.scalar(run + ".unet.0.timestep")}, null,
                    g.tensor(backend, run + ".prompt_embeds"), Trace.NONE);
            g.check(run + ".unet.0.out", out, TOL);
            g.assertAllPassed();
        }
    }

    /** {@code u + 2.5 * (c - u)} with {@code u, c = out.chunk(2)}, on the host as the recording did. */
    private static float[] guide(float[] out) {
        int half = out.length / 2;
        float[] g = new float[half];
        for (int i = 0; i < half; i++) {
            g[i] = out[i] + GUIDANCE * (out[half + i] - out[i]);
        }
        return g;
    }
}
