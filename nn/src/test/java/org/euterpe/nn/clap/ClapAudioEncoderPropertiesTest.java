package org.euterpe.nn.clap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Trace;
import org.euterpe.nn.WeightSource;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the conformance case does not reach: a {@code freq_ratio} of 4 (the published models' 256 / 64; the tiny
 * case has 1), and batches of several clips (shifted-window masks tiled per image). Random weights, properties only:
 * the folded image is transformers' {@code reshape_mel2img} layout, bicubic stretching keeps a constant constant,
 * and a clip's embedding does not depend on the batch it is in.
 */
class ClapAudioEncoderPropertiesTest {
    // spec 32, 8 mel bins: freq_ratio 4; patch 2 / stride 2: a 16 x 16 grid; window 4; two stages (shift in stage 0)
    private static final String CONFIG = """
            {"model_type": "clap", "projection_dim": 8, "audio_config": {"spec_size": 32, "num_mel_bins": 8,
             "patch_size": 2, "patch_stride": 2, "window_size": 4, "depths": [2, 1], "num_attention_heads": [2, 2],
             "patch_embeds_hidden_size": 8, "hidden_size": 16}}""";
    private static final int MELS = 8;

    /** A WeightSource over float arrays. */
    private static WeightSource source(Map<String, float[]> values, Map<String, int[]> shapes) {
        Arena arena = Arena.ofAuto();
        Map<String, MemorySegment> bytes = new HashMap<>();
        values.forEach((k, v) -> {
            MemorySegment s = arena.allocate(4L * v.length, 4);
            MemorySegment.copy(v, 0, s, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v.length);
            bytes.put(k, s);
        });
        return new WeightSource() {
            @Override
            public String where() {
                return "test";
            }

            @Override
            public Set<String> names() {
                return values.keySet();
            }

            @Override
            public Entry entry(String name) {
                return new Entry(DType.F32, Shape.of(shapes.get(name)));
            }

            @Override
            public MemorySegment bytes(String name) {
                return bytes.get(name);
            }
        };
    }

    private static ClapAudioModelWithProjection model(Backend backend, boolean identityBatchNorm) {
        Map<String, float[]> v = new LinkedHashMap<>();
        Map<String, int[]> s = new HashMap<>();
        Random rnd = new Random(7);
        java.util.function.BiConsumer<String, int[]> rand = (name, shape) -> {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] x = new float[n];
            double scale = shape.length > 1 ? 1 / Math.sqrt(shape[shape.length - 1]) : 0.1;
            for (int i = 0; i < n; i++) {
                x[i] = (float) (rnd.nextGaussian() * scale) + (name.endsWith("norm.weight")
                        || name.endsWith("layernorm_before.weight") || name.endsWith("layernorm_after.weight") ? 1 : 0);
            }
            v.put(name, x);
            s.put(name, shape);
        };
        String e = "audio_model.audio_encoder.";
        for (String k : new String[] {"weight", "bias", "running_mean", "running_var"}) {
            float[] x = new float[MELS];
            for (int i = 0; i < MELS; i++) {
                x[i] = identityBatchNorm ? (k.equals("weight") ? 1 : k.equals("running_var") ? 1 - 1e-5f : 0)
                        : (float) (k.equals("running_var") ? 0.5 + rnd.nextDouble() : rnd.nextGaussian());
            }
            v.put(e + "batch_norm." + k, x);
            s.put(e + "batch_norm." + k, new int[] {MELS});
        }
        rand.accept(e + "patch_embed.proj.weight", new int[] {8, 1, 2, 2});
        rand.accept(e + "patch_embed.proj.bias", new int[] {8});
        rand.accept(e + "patch_embed.norm.weight", new int[] {8});
        rand.accept(e + "patch_embed.norm.bias", new int[] {8});
        int[][] stages = {{8, 2}, {16, 1}};
        for (int st = 0; st < 2; st++) {
            int dim = stages[st][0];
            for (int b = 0; b < stages[st][1]; b++) {
                String p = e + "layers." + st + ".blocks." + b + ".";
                for (String ln : new String[] {"layernorm_before", "layernorm_after"}) {
                    rand.accept(p + ln + ".weight", new int[] {dim});
                    rand.accept(p + ln + ".bias", new int[] {dim});
                }
                for (String q : new String[] {"query", "key", "value"}) {
                    rand.accept(p + "attention.self." + q + ".weight", new int[] {dim, dim});
                    rand.accept(p + "attention.self." + q + ".bias", new int[] {dim});
                }
                rand.accept(p + "attention.self.relative_position_bias_table", new int[] {49, 2});
                rand.accept(p + "attention.output.dense.weight", new int[] {dim, dim});
                rand.accept(p + "attention.output.dense.bias", new int[] {dim});
                rand.accept(p + "intermediate.dense.weight", new int[] {4 * dim, dim});
                rand.accept(p + "intermediate.dense.bias", new int[] {4 * dim});
                rand.accept(p + "output.dense.weight", new int[] {dim, 4 * dim});
                rand.accept(p + "output.dense.bias", new int[] {dim});
            }
        }
        rand.accept(e + "layers.0.downsample.norm.weight", new int[] {32});
        rand.accept(e + "layers.0.downsample.norm.bias", new int[] {32});
        rand.accept(e + "layers.0.downsample.reduction.weight", new int[] {16, 32});
        rand.accept(e + "norm.weight", new int[] {16});
        rand.accept(e + "norm.bias", new int[] {16});
        rand.accept("audio_projection.linear1.weight", new int[] {8, 16});
        rand.accept("audio_projection.linear1.bias", new int[] {8});
        rand.accept("audio_projection.linear2.weight", new int[] {8, 8});
        rand.accept("audio_projection.linear2.bias", new int[] {8});
        Weights w = Weights.of(backend, source(v, s), "", "text_encoder");
        ClapAudioModelWithProjection m = ClapAudioModelWithProjection.load(w,
                ClapAudioConfig.read(ComponentFiles.parseConfig(CONFIG, "test")));
        w.checkAllUsed();
        return m;
    }

    private static float[] features(int frames, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[frames * MELS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.euterpe.nn.TestBackends#cpuBackends")
    void theImageIsTheReferenceFold(Backend backend) {
        try (Scope scope = Scope.open()) {
            ClapAudioModelWithProjection m = model(backend, true);
            int frames = 128; // spec_size * freq_ratio: no stretching
            float[] x = features(frames, 1);
            Map<String, float[]> trace = new HashMap<>();
            m.forward(backend.fromArray(x, Shape.of(1, 1, frames, MELS)), (n, t) -> trace.put(n, t.toFloatArray()));
            float[] image = trace.get("image"); // [1, 1, 32, 32]
            // reshape_mel2img: frames cut into 4 strips of 32; strip k's mel bin f is row k*8 + f
            for (int k = 0; k < 4; k++) {
                for (int f = 0; f < MELS; f++) {
                    for (int c = 0; c < 32; c++) {
                        assertEquals(x[(k * 32 + c) * MELS + f], image[(k * MELS + f) * 32 + c], 1e-6f,
                                "strip " + k + " bin " + f + " column " + c);
                    }
                }
            }
            // shorter clips are stretched bicubically along time: a constant stays constant
            float[] constant = new float[100 * MELS];
            java.util.Arrays.fill(constant, 0.75f);
            trace.clear();
            m.forward(backend.fromArray(constant, Shape.of(1, 1, 100, MELS)), (n, t) -> trace.put(n,
                    t.toFloatArray()));
            for (float y : trace.get("image")) {
                assertEquals(0.75f, y, 1e-6f);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.euterpe.nn.TestBackends#cpuBackends")
    void aClipsEmbeddingDoesNotDependOnItsBatch(Backend backend) {
        try (Scope scope = Scope.open()) {
            ClapAudioModelWithProjection m = model(backend, false);
            int frames = 120;
            float[] a = features(frames, 2);
            float[] b = features(frames, 3);
            float[] both = new float[a.length + b.length];
            System.arraycopy(a, 0, both, 0, a.length);
            System.arraycopy(b, 0, both, a.length, b.length);
            float[] ea = m.forward(backend.fromArray(a, Shape.of(1, 1, frames, MELS)), Trace.NONE).toFloatArray();
            float[] eb = m.forward(backend.fromArray(b, Shape.of(1, 1, frames, MELS)), Trace.NONE).toFloatArray();
            Tensor batched = m.forward(backend.fromArray(both, Shape.of(2, 1, frames, MELS)), Trace.NONE);
            assertArrayEquals(new int[] {2, 8}, batched.shape().dims());
            float[] e2 = batched.toFloatArray();
            for (int i = 0; i < 8; i++) {
                assertEquals(ea[i], e2[i], 1e-5f, "clip 0 value " + i);
                assertEquals(eb[i], e2[8 + i], 1e-5f, "clip 1 value " + i);
            }
            // and the two clips differ, so the check above can fail
            assertEquals(false, java.util.Arrays.equals(ea, eb));
        }
    }
}
