package org.euterpe.nn.t5;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * One encoder block ({@code T5Block} without cross-attention): pre-norm self-attention and pre-norm
 * feed-forward ({@code T5DenseActDense}: {@code wo(relu(wi(x)))}), each added to the residual stream.
 */
public final class T5Block {
    private final T5LayerNorm attentionNorm;
    private final T5Attention selfAttention;
    private final T5LayerNorm feedForwardNorm;
    private final Linear wi;
    private final Linear wo;

    private T5Block(T5LayerNorm attentionNorm, T5Attention selfAttention, T5LayerNorm feedForwardNorm, Linear wi,
            Linear wo) {
        this.attentionNorm = attentionNorm;
        this.selfAttention = selfAttention;
        this.feedForwardNorm = feedForwardNorm;
        this.wi = wi;
        this.wo = wo;
    }

    static T5Block load(Weights w, T5Config c, boolean hasRelativeAttentionBias) {
        Weights attn = w.child("layer", 0);
        Weights ff = w.child("layer", 1);
        return new T5Block(
                T5LayerNorm.load(attn.child("layer_norm"), c.dModel(), c.layerNormEpsilon()),
                T5Attention.load(attn.child("SelfAttention"), c, hasRelativeAttentionBias),
                T5LayerNorm.load(ff.child("layer_norm"), c.dModel(), c.layerNormEpsilon()),
                Linear.load(ff.child("DenseReluDense").child("wi"), c.dModel(), c.dFf(), false),
                Linear.load(ff.child("DenseReluDense").child("wo"), c.dFf(), c.dModel(), false));
    }

    T5Attention selfAttention() {
        return selfAttention;
    }

    /** {@code x [batch, length, d_model]} with the shared position bias; same shape out. */
    Tensor forward(Tensor x, Tensor positionBias) {
        try (Scope scope = Scope.open()) {
            Tensor h = x.add(selfAttention.forward(attentionNorm.forward(x), positionBias));
            Tensor ff = wo.forward(wi.forward(feedForwardNorm.forward(h)).relu());
            return scope.keep(h.add(ff));
        }
    }
}
