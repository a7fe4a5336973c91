package org.euterpe.nn.t5;

import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;

/**
 * Hyper-parameters of T5's encoder ({@code T5Config}), with transformers' defaults for absent keys. Only the
 * original T5's feed-forward (relu, not gated) is implemented; the decoder's settings are read and unused.
 */
public record T5Config(int vocabSize, int dModel, int dKv, int dFf, int numLayers, int numHeads,
        int relativeAttentionNumBuckets, int relativeAttentionMaxDistance, double layerNormEpsilon) {

    public T5Config {
        if (relativeAttentionNumBuckets < 4 || relativeAttentionMaxDistance <= relativeAttentionNumBuckets / 4) {
            throw new ModelLoadException("relative_attention_num_buckets " + relativeAttentionNumBuckets
                    + " / relative_attention_max_distance " + relativeAttentionMaxDistance
                    + ": need at least 4 buckets and a max distance beyond the exact range");
        }
    }

    /** The width of the concatenated heads ({@code inner_dim}). */
    public int innerDim() {
        return numHeads * dKv;
    }

    /** Reads {@code text_encoder/config.json} strictly. */
    public static T5Config read(Config c) {
        String proj = c.optString("feed_forward_proj", "relu");
        if (!proj.equals("relu")) {
            throw new ModelLoadException(c.context() + ": unsupported feed_forward_proj = " + proj
                    + " (supported: relu; gated activations of T5 v1.1 are not implemented)");
        }
        c.require("dense_act_fn", null, "relu");
        c.require("is_gated_act", null, false);
        c.require("is_decoder", null, false);
        // decoder / training / generation settings that the encoder does not use
        c.raw("num_decoder_layers");
        c.raw("dropout_rate");
        c.raw("classifier_dropout");
        c.raw("n_positions");
        c.raw("output_past");
        c.raw("layer_norm_type");
        T5Config t = new T5Config(
                c.optInt("vocab_size", 32128),
                c.optInt("d_model", 512),
                c.optInt("d_kv", 64),
                c.optInt("d_ff", 2048),
                c.optInt("num_layers", 6),
                c.optInt("num_heads", 8),
                c.optInt("relative_attention_num_buckets", 32),
                c.optInt("relative_attention_max_distance", 128),
                c.optDouble("layer_norm_epsilon", 1e-6));
        c.finish();
        return t;
    }
}
