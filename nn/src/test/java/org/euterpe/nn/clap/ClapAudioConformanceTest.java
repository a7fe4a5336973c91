package org.euterpe.nn.clap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Trace;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CLAP audio branch of tiny-musicldm's ClapModel against {@code tiny-musicldm-rerank}: every clip's
 * {@code audio_embeds} from the reference's own {@code input_features} (open loop), and each rerank record's
 * text embeddings, {@code logits_per_text} and order from the recorded token ids. FORMAT.md's text-encoder
 * tolerance (1e-5) applies to both towers. The pipeline's conformance test replays the same records on OpenCL.
 */
class ClapAudioConformanceTest {
    private static final double TOLERANCE = 1e-5;

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.euterpe.nn.TestBackends#cpuBackends")
    void matchesTheRerankGoldens(Backend backend) throws Exception {
        try (ConformanceGolden golden = ConformanceGolden.open("tiny-musicldm-rerank", "rerank/" + backend.name());
                ComponentFiles files = ComponentFiles.open(TestData.conformanceCase("tiny-musicldm"), "text_encoder");
                Scope scope = Scope.open()) {
            ClapModel clap = ClapModel.load(files, ClapTextEncoder.load(files, backend), backend);
            assertEquals(golden.json().getList("rerank").size(), 2);
            float scaleT = (float) new org.euterpe.tensor.json.JsonObject(golden.json().getList("rerank").get(0), "r")
                    .getDouble("logit_scale_t");
            assertEquals(scaleT, clap.logitScaleText(), 1e-6f, "exp(logit_scale_t)");
            int clips = golden.json().getList("clips").size();
            for (int c = 0; c < clips; c++) {
                String p = "clip." + c + ".";
                Tensor features = golden.tensor(backend, p + "input_features");
                golden.check(p + "audio_embeds", clap.audioEmbeds(features, Trace.NONE), TOLERANCE);
            }
            for (int r = 0; r < 2; r++) {
                String p = "rerank." + r + ".";
                long[] ids = golden.longs(p + "input_ids");
                long[] mask = new long[ids.length];
                java.util.Arrays.fill(mask, 1);
                Tensor text = clap.textEmbeds(new long[][] {ids}, new long[][] {mask});
                golden.check(p + "text_embeds", text, TOLERANCE);
                // the audio side from the recorded embeddings, so this checks the scoring alone
                Tensor audio = golden.tensor(backend, p + "audio_embeds");
                Tensor logits = clap.logitsPerText(text, audio);
                golden.check(p + "logits_per_text", logits, TOLERANCE);
                long[] order = golden.longs(p + "order");
                assertArrayEquals(java.util.Arrays.stream(order).mapToInt(x -> (int) x).toArray(), argsortDescending(logits.toFloatArray()), p + "order");
            }
            golden.assertAllPassed();
        }
    }

    @Test
    void aBranchlessCheckpointIsRefusedByName() throws Exception {
        try (ComponentFiles files = ComponentFiles.open(TestData.conformanceCase("tiny-audioldm"), "text_encoder")) {
            Backend backend = org.euterpe.kernels.Backends.cpu();
            ClapTextEncoder text = ClapTextEncoder.load(files, backend);
            assertTrue(!ClapModel.hasAudioBranch(files));
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> ClapModel.load(files, text, backend));
            assertTrue(e.getMessage().contains("ships only the CLAP text branch"), e.getMessage());
        }
    }

    @Test
    void wrongFeatureShapesAreRefused() throws Exception {
        Backend backend = org.euterpe.kernels.Backends.cpu();
        try (ComponentFiles files = ComponentFiles.open(TestData.conformanceCase("tiny-musicldm"), "text_encoder");
                Scope scope = Scope.open()) {
            ClapModel clap = ClapModel.load(files, ClapTextEncoder.load(files, backend), backend);
            // one channel where the patch embedding takes four; 63 mel bins; too many frames
            for (Shape s : new Shape[] {Shape.of(1, 1, 61, 64), Shape.of(1, 4, 61, 63), Shape.of(1, 4, 65, 64)}) {
                Tensor t = backend.zeros(org.euterpe.tensor.DType.F32, s);
                assertThrows(IllegalArgumentException.class, () -> clap.audioEmbeds(t, Trace.NONE), s.toString());
            }
        }
    }

    @Test
    void unsupportedAudioConfigsAreRefusedByName() {
        for (String[] c : new String[][] {
                {"{\"model_type\": \"clap\", \"audio_config\": {\"enable_fusion\": true}}", "enable_fusion"},
                {"{\"model_type\": \"clap\", \"audio_config\": {\"patch_stride\": [4, 2]}}", "patch_stride"},
                {"{\"model_type\": \"clap\", \"audio_config\": {\"hidden_size\": 100}}", "hidden_size"},
                {"{\"model_type\": \"clap\", \"audio_config\": {\"hidden_act\": \"relu\"}}", "hidden_act"},
                {"{\"model_type\": \"clap\", \"audio_config\": {\"bogus\": 1}}", "bogus"}}) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> ClapAudioConfig.read(ComponentFiles.parseConfig(c[0], "test")), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        ClapAudioConfig d = ClapAudioConfig.read(ComponentFiles.parseConfig("{\"model_type\": \"clap\"}", "test"));
        assertEquals(768, d.hiddenSize()); // transformers' defaults: 96 * 2^3
        assertEquals(4, d.freqRatio()); // 256 / 64
    }

    static int[] argsortDescending(float[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, (a, b) -> Float.compare(v[b], v[a]));
        return java.util.Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }
}
