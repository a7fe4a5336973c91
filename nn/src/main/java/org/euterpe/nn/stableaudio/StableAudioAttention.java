package org.euterpe.nn.stableaudio;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code Attention} run by {@code StableAudioAttnProcessor2_0}: projections without bias,
 * {@code num_key_value_heads} key/value heads shared by groups of query heads (grouped-query attention;
 * query head {@code h} reads key/value head {@code h / group}, as {@code repeat_interleave} pairs them),
 * rotary embedding on queries (and, in self-attention, keys), scaled-dot-product attention.
 */
final class StableAudioAttention {
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final boolean crossAttention;

    private StableAudioAttention(Linear toQ, Linear toK, Linear toV, Linear toOut, int heads, int kvHeads, int headDim,
            boolean crossAttention) {
        this.toQ = toQ;
        this.toK = toK;
        this.toV = toV;
        this.toOut = toOut;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.crossAttention = crossAttention;
    }

    /**
     * @param kvInputDim the width keys and values are projected from (the query width for self-attention)
     */
    static StableAudioAttention load(Weights w, int queryDim, int kvInputDim, int heads, int kvHeads, int headDim,
            boolean crossAttention) {
        int inner = heads * headDim;
        int kvInner = kvHeads * headDim;
        return new StableAudioAttention(Linear.load(w.child("to_q"), queryDim, inner, false),
                Linear.load(w.child("to_k"), kvInputDim, kvInner, false),
                Linear.load(w.child("to_v"), kvInputDim, kvInner, false),
                Linear.load(w.child("to_out").child("0"), inner, queryDim, false), heads, kvHeads, headDim,
                crossAttention);
    }

    /**
     * @param x       {@code [batch, length, queryDim]}
     * @param context {@code [batch, contextLength, kvInputDim]}, or null for self-attention
     * @param rotary  applied to queries (and keys in self-attention), or null
     * @return {@code [batch, length, queryDim]}
     */
    Tensor forward(Tensor x, Tensor context, RotaryEmbedding rotary) {
        int batch = x.dim(0);
        int length = x.dim(1);
        Tensor kvIn = context == null ? x : context;
        int kvLength = kvIn.dim(1);
        try (Scope scope = Scope.open()) {
            Tensor q = toQ.forward(x).reshape(batch, length, heads, headDim).permute(0, 2, 1, 3);
            Tensor k = toK.forward(kvIn).reshape(batch, kvLength, kvHeads, headDim).permute(0, 2, 1, 3);
            Tensor v = toV.forward(kvIn).reshape(batch, kvLength, kvHeads, headDim).permute(0, 2, 1, 3);
            if (rotary != null) {
                q = rotary.apply(q);
                if (!crossAttention) {
                    k = rotary.apply(k);
                }
            }
            // Grouped queries: the group's query heads, contiguous in [batch, heads, length, d], become one
            // longer query sequence per key/value head (attention is independent per query row).
            int group = heads / kvHeads;
            Tensor grouped = q.reshape(batch, kvHeads, group * length, headDim);
            Tensor attn = x.backend().attention(grouped, k, v, null, (float) (1.0 / Math.sqrt(headDim)));
            Tensor merged = attn.reshape(batch, heads, length, headDim).permute(0, 2, 1, 3)
                    .reshape(batch, length, heads * headDim);
            return scope.keep(toOut.forward(merged));
        }
    }
}
