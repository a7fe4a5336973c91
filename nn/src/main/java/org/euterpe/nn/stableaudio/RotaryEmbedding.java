package org.euterpe.nn.stableaudio;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * The rotary position table of Stable Audio's self-attention and its application to the first
 * {@code dim} channels of each head ({@code apply_rotary_emb(use_real=True, use_real_unbind_dim=-2)}: the
 * halves rotated, {@code x·cos + [-x₂, x₁]·sin}; the remaining channels pass unchanged).
 *
 * @param cos {@code [positions, dim]}
 * @param sin {@code [positions, dim]}
 */
public record RotaryEmbedding(Tensor cos, Tensor sin) {

    /**
     * diffusers' {@code get_1d_rotary_pos_embed(dim, positions, use_real=True, repeat_interleave_real=False)}:
     * frequencies {@code 1 / 10000^(2i/dim)}, angles {@code p · f}, each table the cos (or sin) of the
     * angles twice over, in float32.
     */
    public static RotaryEmbedding of(Backend backend, int dim, int positions) {
        if (dim < 2 || dim % 2 != 0 || positions < 1) {
            throw new IllegalArgumentException("rotary dim " + dim + " must be even and positive, positions "
                    + positions + " positive");
        }
        int half = dim / 2;
        float[] freqs = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / (float) dim;
            freqs[i] = 1.0f / (float) Math.pow(10000.0f, exponent);
        }
        float[] cos = new float[positions * dim];
        float[] sin = new float[positions * dim];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * freqs[i];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[p * dim + i] = c;
                cos[p * dim + half + i] = c;
                sin[p * dim + i] = s;
                sin[p * dim + half + i] = s;
            }
        }
        return new RotaryEmbedding(backend.fromArray(cos, Shape.of(positions, dim)),
                backend.fromArray(sin, Shape.of(positions, dim)));
    }

    /** The rotated width. */
    public int dim() {
        return cos.dim(1);
    }

    /** {@code x [batch, heads, length, headDim]} with its first {@link #dim} channels rotated. */
    Tensor apply(Tensor x) {
        return x.backend().rotary(x, cos, sin);
    }
}
