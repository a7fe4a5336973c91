package org.euterpe.nn.clap;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.LayerNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.nn.FlopCounter;
import org.euterpe.tensor.Tensor;

/**
 * One post-LayerNorm BERT layer ({@code text_model.encoder.layer.N}): multi-head
 * self-attention with a residual and LayerNorm, then a GELU feed-forward with a residual and
 * LayerNorm.
 */
final class ClapTextLayer {
    private final int heads;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear attentionOut;
    private final LayerNorm attentionNorm;
    private final Linear intermediate;
    private final Linear output;
    private final LayerNorm outputNorm;

    private ClapTextLayer(int heads, Linear query, Linear key, Linear value, Linear attentionOut,
            LayerNorm attentionNorm, Linear intermediate, Linear output, LayerNorm outputNorm) {
        this.heads = heads;
        this.query = query;
        this.key = key;
        this.value = value;
        this.attentionOut = attentionOut;
        this.attentionNorm = attentionNorm;
        this.intermediate = intermediate;
        this.output = output;
        this.outputNorm = outputNorm;
    }

    static ClapTextLayer load(Weights w, ClapTextConfig c) {
        int h = c.hiddenSize();
        Weights self = w.child("attention").child("self");
        Weights attnOut = w.child("attention").child("output");
        return new ClapTextLayer(c.numHeads(),
                Linear.load(self.child("query"), h, h, true),
                Linear.load(self.child("key"), h, h, true),
                Linear.load(self.child("value"), h, h, true),
                Linear.load(attnOut.child("dense"), h, h, true),
                LayerNorm.load(attnOut.child("LayerNorm"), h, c.layerNormEps()),
                Linear.load(w.child("intermediate").child("dense"), h, c.intermediateSize(), true),
                Linear.load(w.child("output").child("dense"), c.intermediateSize(), h, true),
                LayerNorm.load(w.child("output").child("LayerNorm"), h, c.layerNormEps()));
    }

    /**
     * @param x    {@code [batch, length, hidden]}
     * @param mask additive {@code [batch, 1, 1, length]}, or null when nothing is masked
     * @return {@code [batch, length, hidden]}
     */
    Tensor forward(Tensor x, Tensor mask) {
        try (Scope scope = Scope.open()) {
            return scope.keep(compute(x, mask));
        }
    }

    private Tensor compute(Tensor x, Tensor mask) {
        int b = x.dim(0);
        int l = x.dim(1);
        int hidden = x.dim(2);
        int d = hidden / heads;
        Tensor q = splitHeads(query.forward(x), heads);
        Tensor k = splitHeads(key.forward(x), heads);
        Tensor v = splitHeads(value.forward(x), heads);
        FlopCounter.attention(q, k, v);
        Tensor context = x.backend().attention(q, k, v, mask, (float) (1.0 / Math.sqrt(d)))
                .permute(0, 2, 1, 3).reshape(b, l, hidden);
        Tensor attended = attentionNorm.forward(attentionOut.forward(context).add(x));
        Tensor ff = output.forward(intermediate.forward(attended).gelu());
        return outputNorm.forward(ff.add(attended));
    }

    /** {@code [batch, length, heads*d] -> [batch, heads, length, d]}. */
    private static Tensor splitHeads(Tensor t, int heads) {
        return t.reshape(t.dim(0), t.dim(1), heads, t.dim(2) / heads).permute(0, 2, 1, 3);
    }
}
