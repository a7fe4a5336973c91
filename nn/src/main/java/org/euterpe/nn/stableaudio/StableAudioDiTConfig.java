package org.euterpe.nn.stableaudio;

import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;

/** {@code StableAudioDiTModel}'s config with diffusers' defaults (Stable Audio Open 1.0's values). */
public record StableAudioDiTConfig(int sampleSize, int inChannels, int numLayers, int attentionHeadDim,
        int numAttentionHeads, int numKeyValueAttentionHeads, int outChannels, int crossAttentionDim,
        int timeProjDim, int globalStatesInputDim, int crossAttentionInputDim) {

    public StableAudioDiTConfig {
        if (numKeyValueAttentionHeads < 1 || numAttentionHeads % numKeyValueAttentionHeads != 0) {
            throw new ModelLoadException("num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_attention_heads " + numKeyValueAttentionHeads);
        }
        if (timeProjDim % 2 != 0 || attentionHeadDim % 4 != 0) {
            throw new ModelLoadException("time_proj_dim " + timeProjDim + " must be even and attention_head_dim "
                    + attentionHeadDim + " a multiple of 4 (half of it is rotated, in pairs)");
        }
    }

    /** {@code num_attention_heads · attention_head_dim}. */
    public int innerDim() {
        return numAttentionHeads * attentionHeadDim;
    }

    /** The rotated part of each head: the pipeline's {@code rotary_embed_dim = attention_head_dim // 2}. */
    public int rotaryEmbedDim() {
        return attentionHeadDim / 2;
    }

    public static StableAudioDiTConfig read(Config c) {
        StableAudioDiTConfig d = new StableAudioDiTConfig(
                c.optInt("sample_size", 1024),
                c.optInt("in_channels", 64),
                c.optInt("num_layers", 24),
                c.optInt("attention_head_dim", 64),
                c.optInt("num_attention_heads", 24),
                c.optInt("num_key_value_attention_heads", 12),
                c.optInt("out_channels", 64),
                c.optInt("cross_attention_dim", 768),
                c.optInt("time_proj_dim", 256),
                c.optInt("global_states_input_dim", 1536),
                c.optInt("cross_attention_input_dim", 768));
        c.finish();
        return d;
    }
}
