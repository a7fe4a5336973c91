package org.euterpe.nn.stableaudio;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

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
        int r = dim();
        int d = x.dim(3);
        int length = x.dim(2);
        if (cos.dim(0) != length) {
            throw new IllegalArgumentException("rotary table has " + cos.dim(0) + " positions, the sequence "
                    + length);
        }
        try (Scope scope = Scope.open()) {
            Tensor rot = r == d ? x : x.slice(3, 0, r);
            Tensor x1 = rot.slice(3, 0, r / 2);
            Tensor x2 = rot.slice(3, r / 2, r);
            Tensor rotated = x.backend().concat(java.util.List.of(x.backend().unary(UnaryOp.NEG, x2, 0f), x1), 3);
            Tensor out = rot.mul(cos).add(rotated.mul(sin));
            if (r < d) {
                out = x.backend().concat(java.util.List.of(out, x.slice(3, r, d)), 3);
            }
            return scope.keep(out);
        }
    }
}
