package org.euterpe.nn.stableaudio;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.LayerNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * One DiT block: pre-LayerNorm self-attention with rotary embedding, pre-LayerNorm grouped-query
 * cross-attention to the conditioning tokens, and a pre-LayerNorm SwiGLU feed-forward
 * ({@code proj → [h, gate] → h · silu(gate) → linear}), each added to the residual stream.
 */
final class StableAudioDiTBlock {
    private static final double NORM_EPS = 1e-5;

    private final LayerNorm norm1;
    private final StableAudioAttention attn1;
    private final LayerNorm norm2;
    private final StableAudioAttention attn2;
    private final LayerNorm norm3;
    private final Linear ffProj;
    private final Linear ffOut;

    private StableAudioDiTBlock(LayerNorm norm1, StableAudioAttention attn1, LayerNorm norm2, StableAudioAttention attn2,
            LayerNorm norm3, Linear ffProj, Linear ffOut) {
        this.norm1 = norm1;
        this.attn1 = attn1;
        this.norm2 = norm2;
        this.attn2 = attn2;
        this.norm3 = norm3;
        this.ffProj = ffProj;
        this.ffOut = ffOut;
    }

    static StableAudioDiTBlock load(Weights w, StableAudioDiTConfig c) {
        int dim = c.innerDim();
        int ffInner = 4 * dim; // FeedForward's default mult
        Weights ff = w.child("ff").child("net");
        return new StableAudioDiTBlock(
                LayerNorm.load(w.child("norm1"), dim, NORM_EPS),
                StableAudioAttention.load(w.child("attn1"), dim, dim, c.numAttentionHeads(), c.numAttentionHeads(),
                        c.attentionHeadDim(), false),
                LayerNorm.load(w.child("norm2"), dim, NORM_EPS),
                StableAudioAttention.load(w.child("attn2"), dim, c.crossAttentionDim(), c.numAttentionHeads(),
                        c.numKeyValueAttentionHeads(), c.attentionHeadDim(), true),
                LayerNorm.load(w.child("norm3"), dim, NORM_EPS),
                Linear.load(ff.child("0").child("proj"), dim, 2 * ffInner, true),
                Linear.load(ff.child("2"), ffInner, dim, true));
    }

    /**
     * @param x       {@code [batch, 1 + frames, dim]}
     * @param context {@code [batch, tokens, cross_attention_dim]}
     */
    Tensor forward(Tensor x, Tensor context, RotaryEmbedding rotary) {
        try (Scope scope = Scope.open()) {
            Tensor h = attn1.forward(norm1.forward(x), null, rotary).add(x);
            h = attn2.forward(norm2.forward(h), context, null).add(h);
            Tensor proj = ffProj.forward(norm3.forward(h)); // [batch, 1 + frames, 2 * inner]: value, gate
            Tensor gated = proj.backend().swiglu(proj);     // [batch, 1 + frames, inner]: value * silu(gate)
            return scope.keep(ffOut.forward(gated).add(h));
        }
    }
}
