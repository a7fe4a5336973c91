package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.kernels.cpu.CpuBackendBase;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Random benchmark weights stored as {@code euterpe convert --dtype} stores a checkpoint: each component's dtype
 * from {@link Precision#recommended}, embedding tables and rank-1 weights F32, I8 quantised per row with mapped F32
 * scales (the tensors a converted file's {@code <key>} and {@code <key>.__scale} give).
 */
class RandomWeightsPrecisionTest {
    private final Backend backend = Backends.cpu();

    @Test
    void int8WeightsAreTheF32WeightsQuantisedPerRowAsTheConverterDoes() throws Exception {
        List<AutoCloseable> owners = new ArrayList<>();
        try {
            String key = "transformer_blocks.0.attn1.to_q.weight";
            Weights f32 = RandomModel.mappedRandomWeights(backend, "transformer", 5, Precision.of(DType.F32), owners);
            Weights i8 = RandomModel.mappedRandomWeights(backend, "transformer", 5,
                    Precision.recommended(DType.I8), owners);
            float[] v = f32.get(key, 6, 40).toFloatArray();
            Tensor q = i8.get(key, 6, 40);
            assertEquals(DType.I8, q.dtype());
            assertNotNull(q.scales());
            assertTrue(CpuBackendBase.segment(q).isMapped(), "the I8 values are mapped from the file");
            assertTrue(CpuBackendBase.segment(q.scales()).isMapped(), "so are their scales");
            float[] expected = new float[v.length];
            for (int r = 0; r < 6; r++) {
                float max = 0;
                for (int i = 0; i < 40; i++) {
                    max = Math.max(max, Math.abs(v[r * 40 + i]));
                }
                float scale = max / 127f;
                assertEquals(scale, q.scales().toFloatArray()[r], "row " + r + "'s scale");
                for (int i = 0; i < 40; i++) {
                    expected[r * 40 + i] = (byte) Math.rint(v[r * 40 + i] / scale) * scale;
                }
            }
            assertArrayEquals(expected, q.toFloatArray());
            // rank 1 and embedding tables stay F32, as the converter keeps them
            assertEquals(DType.F32, i8.get("norm1.weight", 40).dtype());
            assertEquals(DType.F32, i8.get("embed_tokens.weight", 50, 8).dtype());
        } finally {
            for (AutoCloseable o : owners) {
                o.close();
            }
        }
    }

    @Test
    void eachComponentTakesTheRecommendedDtype() throws Exception {
        List<AutoCloseable> owners = new ArrayList<>();
        try {
            String key = "block.0.layer.0.SelfAttention.q.weight";
            DType[][] cases = { // requested, text_encoder, transformer, vae
                {DType.F16, DType.F16, DType.F16, DType.F16},
                {DType.BF16, DType.F16, DType.BF16, DType.F16},
                {DType.I8, DType.F16, DType.I8, DType.I8}};
            for (DType[] c : cases) {
                Precision p = Precision.recommended(c[0]);
                String[] components = {"text_encoder", "transformer", "vae"};
                for (int i = 0; i < 3; i++) {
                    Weights w = RandomModel.mappedRandomWeights(backend, components[i], 1, p, owners);
                    assertEquals(c[i + 1], w.get(key, 4, 4).dtype(), c[0] + " " + components[i]);
                }
            }
        } finally {
            for (AutoCloseable o : owners) {
                o.close();
            }
        }
    }

    @Test
    void weightNormalisedLayersGetTheirStoredPair() {
        // diffusers' Oobleck checkpoints store weight_g / weight_v, which the VAE folds into F32 at load: random
        // weights offer the same pair, so the bench's VAE is built (and holds memory) as a converted file's is
        Weights w = Weights.random(backend, "vae", 1, DType.I8);
        assertTrue(w.has("decoder.conv1.weight_g") && w.has("decoder.conv1.weight_v"));
        assertEquals(DType.I8, w.get("decoder.conv1.weight_v", 8, 4, 7).dtype());
    }
}
