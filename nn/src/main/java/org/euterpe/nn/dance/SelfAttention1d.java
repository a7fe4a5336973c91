package org.euterpe.nn.dance;

import org.euterpe.nn.FlopCounter;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.GroupNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code SelfAttention1d}: one-group GroupNorm, multi-head self-attention over the
 * time axis with {@code C / 32} heads of 32, an output projection and the residual.
 *
 * <pre>
 *   h = gn(x)^T                                [B, L, C]
 *   q, k, v = query(h), key(h), value(h)       [B, heads, L, 32]
 *   a = softmax((q s)(k s)^T) v,  s = d^-1/4   [B, heads, L, 32]
 *   return proj_attn(a)^T + x                  [B, C, L]
 * </pre>
 * q and k are each scaled by {@code d^-1/4} before the product, as the reference rounds.
 */
public final class SelfAttention1d {
    private static final int HEAD_DIM = 32;

    private final GroupNorm groupNorm;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear projAttn;
    private final int heads;
    private final int dimHead;
    private final float scale;

    private SelfAttention1d(GroupNorm groupNorm, Linear query, Linear key, Linear value, Linear projAttn, int heads,
            int dimHead) {
        this.groupNorm = groupNorm;
        this.query = query;
        this.key = key;
        this.value = value;
        this.projAttn = projAttn;
        this.heads = heads;
        this.dimHead = dimHead;
        this.scale = (float) (1 / Math.sqrt(Math.sqrt(dimHead)));
    }

    /** {@code channels / 32} heads (integer division, as the blocks pass {@code n_head}). */
    public static SelfAttention1d load(Weights w, int channels) {
        int heads = channels / HEAD_DIM;
        if (heads < 1) {
            throw new ModelLoadException(w.key("") + ": self-attention over " + channels
                    + " channels has no head (heads = channels // 32); widths of attention blocks must be >= 32");
        }
        if (channels % heads != 0) {
            throw new ModelLoadException(w.key("") + ": " + channels + " channels do not split into " + heads
                    + " heads");
        }
        return new SelfAttention1d(GroupNorm.load(w.child("group_norm"), 1, channels, 1e-5),
                Linear.load(w.child("query"), channels, channels, true),
                Linear.load(w.child("key"), channels, channels, true),
                Linear.load(w.child("value"), channels, channels, true),
                Linear.load(w.child("proj_attn"), channels, channels, true),
                heads, channels / heads);
    }

    /** {@code [B, C, L] -> [B, C, L]}. */
    public Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor h = groupNorm.forward(x).transpose(1, 2);
            Tensor q = splitHeads(query.forward(h)).mul(scale);
            Tensor k = splitHeads(key.forward(h)).mul(scale);
            Tensor v = splitHeads(value.forward(h));
            FlopCounter.attention(q, k, v);
            Tensor a = x.backend().attention(q, k, v, null, 1f);
            Tensor out = projAttn.forward(mergeHeads(a)).transpose(1, 2);
            return scope.keep(out.add(x));
        }
    }

    /** {@code [B, L, heads*d] -> [B, heads, L, d]}. */
    private Tensor splitHeads(Tensor t) {
        int b = t.dim(0);
        int l = t.dim(1);
        return heads == 1 ? t.reshape(b, 1, l, dimHead) : t.reshape(b, l, heads, dimHead).permute(0, 2, 1, 3);
    }

    /** {@code [B, heads, L, d] -> [B, L, heads*d]}. */
    private Tensor mergeHeads(Tensor t) {
        int b = t.dim(0);
        int l = t.dim(2);
        return heads == 1 ? t.reshape(b, l, dimHead) : t.permute(0, 2, 1, 3).reshape(b, l, heads * dimHead);
    }
}
