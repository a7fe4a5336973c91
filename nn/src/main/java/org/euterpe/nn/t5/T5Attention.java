package org.euterpe.nn.t5;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * T5's self-attention: q, k, v and o without biases, scores {@code q kᵀ} without the {@code 1/sqrt(d)}
 * scale (T5 folds it into the initialisation), plus a learned bias per head and relative-position bucket
 * that only the first layer owns ({@link #positionBias}) and every layer reuses.
 */
public final class T5Attention {
    private final T5Config config;
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    /** {@code [num_buckets, heads]}, or null for the layers that reuse the first layer's bias. */
    private final float[] relativeAttentionBias;

    private T5Attention(T5Config config, Linear q, Linear k, Linear v, Linear o, float[] relativeAttentionBias) {
        this.config = config;
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.relativeAttentionBias = relativeAttentionBias;
    }

    static T5Attention load(Weights w, T5Config c, boolean hasRelativeAttentionBias) {
        int d = c.dModel();
        int inner = c.innerDim();
        // [buckets, heads], read to the host once: the bias is expanded per (query, key) there
        float[] bias = hasRelativeAttentionBias ? w.child("relative_attention_bias")
                .get("weight", c.relativeAttentionNumBuckets(), c.numHeads()).toFloatArray() : null;
        return new T5Attention(c, Linear.load(w.child("q"), d, inner, false), Linear.load(w.child("k"), d, inner, false),
                Linear.load(w.child("v"), d, inner, false), Linear.load(w.child("o"), inner, d, false), bias);
    }

    /**
     * {@code T5Attention._relative_position_bucket} for the encoder (bidirectional): half the buckets for
     * keys after the query; within each half, exact buckets for distances below a quarter of the buckets,
     * then logarithmic ones up to {@code max_distance}. Computed in float32 as the reference does.
     */
    static int relativePositionBucket(int relativePosition, int numBuckets, int maxDistance) {
        int half = numBuckets / 2;
        int bucket = relativePosition > 0 ? half : 0;
        int n = Math.abs(relativePosition);
        int maxExact = half / 2;
        if (n < maxExact) {
            return bucket + n;
        }
        float ratio = (float) n / (float) maxExact;
        float logRatio = (float) Math.log(ratio);
        float scaled = logRatio / (float) Math.log((double) maxDistance / maxExact) * (float) (half - maxExact);
        int large = maxExact + (int) scaled;
        return bucket + Math.min(large, half - 1);
    }

    /**
     * The first layer's position bias plus the padding mask: {@code [batch, heads, length, length]},
     * bias[h, i, j] from the bucket of {@code j - i}, and float32's minimum added at padded keys (as
     * transformers' extended attention mask).
     *
     * @param mask {@code [batch][length]}, 1 for real tokens
     */
    Tensor positionBias(Backend backend, long[][] mask, int length) {
        int heads = config.numHeads();
        int batch = mask.length;
        float[] out = new float[batch * heads * length * length];
        int[] bucketOf = new int[2 * length - 1];
        for (int rel = -(length - 1); rel < length; rel++) {
            bucketOf[rel + length - 1] = relativePositionBucket(rel, config.relativeAttentionNumBuckets(),
                    config.relativeAttentionMaxDistance());
        }
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < length; i++) {
                    int row = ((b * heads + h) * length + i) * length;
                    for (int j = 0; j < length; j++) {
                        float bias = relativeAttentionBias[bucketOf[j - i + length - 1] * heads + h];
                        // (1 - mask) * finfo(float32).min, added to the bias in float32
                        out[row + j] = mask[b][j] != 0 ? bias : bias + -Float.MAX_VALUE;
                    }
                }
            }
        }
        return backend.fromArray(out, Shape.of(batch, heads, length, length));
    }

    boolean hasRelativeAttentionBias() {
        return relativeAttentionBias != null;
    }

    /**
     * @param x    {@code [batch, length, d_model]}
     * @param bias {@code [batch, heads, length, length]} from {@link #positionBias}
     * @return {@code [batch, length, d_model]}
     */
    Tensor forward(Tensor x, Tensor bias) {
        int batch = x.dim(0);
        int length = x.dim(1);
        int heads = config.numHeads();
        int dKv = config.dKv();
        try (Scope scope = Scope.open()) {
            Tensor qh = heads(q.forward(x), batch, length, heads, dKv);
            Tensor kh = heads(k.forward(x), batch, length, heads, dKv);
            Tensor vh = heads(v.forward(x), batch, length, heads, dKv);
            Tensor attn = x.backend().attention(qh, kh, vh, bias, 1.0f); // [batch, heads, length, dKv]
            Tensor merged = attn.permute(0, 2, 1, 3).reshape(batch, length, heads * dKv);
            return scope.keep(o.forward(merged));
        }
    }

    /** {@code [batch, length, heads * d]} to {@code [batch, heads, length, d]}. */
    private static Tensor heads(Tensor t, int batch, int length, int heads, int d) {
        return t.reshape(batch, length, heads, d).permute(0, 2, 1, 3);
    }
}
