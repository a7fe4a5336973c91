package org.euterpe.nn.unet;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.Attention;
import org.euterpe.nn.layers.LayerNorm;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers BasicTransformerBlock with layer norms (eps 1e-5) and GEGLU:
 *
 * <pre>
 * x = x + attn1(norm1(x))                     self-attention
 * x = x + attn2(norm2(x), context)            cross-attention; with no context it attends to norm2(x)
 * x = x + ff(norm3(x))
 * </pre>
 */
public final class BasicTransformerBlock {
    private static final double LAYER_NORM_EPS = 1e-5;

    private final LayerNorm norm1;
    private final Attention attn1;
    private final LayerNorm norm2;
    private final Attention attn2;
    private final LayerNorm norm3;
    private final FeedForward ff;

    private BasicTransformerBlock(LayerNorm norm1, Attention attn1, LayerNorm norm2, Attention attn2,
            LayerNorm norm3, FeedForward ff) {
        this.norm1 = norm1;
        this.attn1 = attn1;
        this.norm2 = norm2;
        this.attn2 = attn2;
        this.norm3 = norm3;
        this.ff = ff;
    }

    public static BasicTransformerBlock load(Weights w, int dim, int heads, int dimHead, int crossAttentionDim) {
        return new BasicTransformerBlock(
                LayerNorm.load(w.child("norm1"), dim, LAYER_NORM_EPS),
                Attention.load(w.child("attn1"), dim, dim, heads, dimHead),
                LayerNorm.load(w.child("norm2"), dim, LAYER_NORM_EPS),
                Attention.load(w.child("attn2"), dim, crossAttentionDim, heads, dimHead),
                LayerNorm.load(w.child("norm3"), dim, LAYER_NORM_EPS),
                FeedForward.load(w.child("ff"), dim));
    }

    /**
     * @param x       {@code [batch, tokens, dim]}
     * @param context {@code [batch, contextTokens, crossAttentionDim]} or null
     * @return {@code [batch, tokens, dim]}
     */
    public Tensor forward(Tensor x, Tensor context) {
        try (Scope scope = Scope.open()) {
            Tensor h = attn1.forward(norm1.forward(x), null).add(x);
            h = attn2.forward(norm2.forward(h), context).add(h);
            h = ff.forward(norm3.forward(h)).add(h);
            return scope.keep(h);
        }
    }
}
