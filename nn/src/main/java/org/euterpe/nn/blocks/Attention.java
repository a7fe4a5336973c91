package org.euterpe.nn.blocks;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.GroupNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.nn.FlopCounter;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' Attention (attention_processor.py) with the default processor: multi-head
 * scaled-dot-product attention {@code to_out(softmax(q k^T / sqrt(d)) v)} with
 * {@code q = to_q(x)}, {@code k = to_k(context)}, {@code v = to_v(context)}, where the context is
 * the encoder hidden states, or {@code x} itself when none are given.
 *
 * <p>Two forms occur: the transformer form ({@code [batch, tokens, dim]}, no bias on q/k/v) and
 * the VAE mid-block form (spatial {@code [batch, channels, h, w]} input, a GroupNorm before the
 * projections, biases, one head of width {@code channels}, a residual connection and
 * {@code rescale_output_factor}).
 */
public final class Attention {
    private final GroupNorm groupNorm;
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private final int heads;
    private final int dimHead;
    private final boolean residualConnection;
    private final float rescaleOutputFactor;

    private Attention(GroupNorm groupNorm, Linear toQ, Linear toK, Linear toV, Linear toOut, int heads, int dimHead,
            boolean residualConnection, float rescaleOutputFactor) {
        this.groupNorm = groupNorm;
        this.toQ = toQ;
        this.toK = toK;
        this.toV = toV;
        this.toOut = toOut;
        this.heads = heads;
        this.dimHead = dimHead;
        this.residualConnection = residualConnection;
        this.rescaleOutputFactor = rescaleOutputFactor;
    }

    /**
     * The transformer form (BasicTransformerBlock's attn1 / attn2): {@code to_q}, {@code to_k},
     * {@code to_v} without bias unless the checkpoint has one, {@code to_out.0} with bias.
     *
     * @param crossAttentionDim width of the context; {@code queryDim} for self-attention
     */
    public static Attention load(Weights w, int queryDim, int crossAttentionDim, int heads, int dimHead) {
        int inner = heads * dimHead;
        return new Attention(null,
                Linear.load(w.child("to_q"), queryDim, inner),
                Linear.load(w.child("to_k"), crossAttentionDim, inner),
                Linear.load(w.child("to_v"), crossAttentionDim, inner),
                Linear.load(w.child("to_out").child("0"), inner, queryDim),
                heads, dimHead, false, 1f);
    }

    /**
     * The spatial form of the VAE's UNetMidBlock2D ({@code _from_deprecated_attn_block}): a
     * GroupNorm, one head of width {@code channels}, residual connection. Checkpoints converted
     * by older diffusers name the projections {@code query/key/value/proj_attn}; both namings load.
     */
    public static Attention loadSpatial(Weights w, int channels, int groups, double eps, double rescaleOutputFactor) {
        boolean legacy = !w.has("to_q.weight") && w.has("query.weight");
        return new Attention(
                GroupNorm.load(w.child("group_norm"), groups, channels, eps),
                Linear.load(w.child(legacy ? "query" : "to_q"), channels, channels),
                Linear.load(w.child(legacy ? "key" : "to_k"), channels, channels),
                Linear.load(w.child(legacy ? "value" : "to_v"), channels, channels),
                Linear.load(legacy ? w.child("proj_attn") : w.child("to_out").child("0"), channels, channels),
                1, channels, true, (float) rescaleOutputFactor);
    }

    /**
     * @param x       {@code [batch, tokens, queryDim]}, or {@code [batch, channels, h, w]} for the
     *                spatial form
     * @param context {@code [batch, contextTokens, crossAttentionDim]}, or null to attend to
     *                {@code x} (after the group norm)
     * @return the shape of {@code x}
     */
    public Tensor forward(Tensor x, Tensor context) {
        try (Scope scope = Scope.open()) {
            boolean spatial = x.rank() == 4;
            Tensor h = x;
            if (groupNorm != null) {
                h = groupNorm.forward(h);
            }
            if (spatial) { // [B, C, H, W] -> [B, HW, C]
                h = h.reshape(x.dim(0), x.dim(1), x.dim(2) * x.dim(3)).transpose(1, 2);
            }
            Tensor kv = context != null ? context : h;
            Tensor q = splitHeads(toQ.forward(h));
            Tensor k = splitHeads(toK.forward(kv));
            Tensor v = splitHeads(toV.forward(kv));
            FlopCounter.attention(q, k, v);
            Tensor a = x.backend().attention(q, k, v, null, (float) (1.0 / Math.sqrt(dimHead)));
            Tensor out = toOut.forward(mergeHeads(a));
            if (spatial) { // [B, HW, C] -> [B, C, H, W]
                out = out.transpose(1, 2).reshape(x.shape().dims());
            }
            if (residualConnection) {
                out = out.add(x);
            }
            if (rescaleOutputFactor != 1f) {
                out = out.div(rescaleOutputFactor);
            }
            return scope.keep(out);
        }
    }

    /** {@code [B, L, heads*d] -> [B, heads, L, d]}. */
    private Tensor splitHeads(Tensor t) {
        int b = t.dim(0);
        int l = t.dim(1);
        if (heads == 1) {
            return t.reshape(b, 1, l, dimHead);
        }
        return t.reshape(b, l, heads, dimHead).permute(0, 2, 1, 3);
    }

    /** {@code [B, heads, L, d] -> [B, L, heads*d]}. */
    private Tensor mergeHeads(Tensor t) {
        int b = t.dim(0);
        int l = t.dim(2);
        if (heads == 1) {
            return t.reshape(b, l, dimHead);
        }
        return t.permute(0, 2, 1, 3).reshape(b, l, heads * dimHead);
    }
}
