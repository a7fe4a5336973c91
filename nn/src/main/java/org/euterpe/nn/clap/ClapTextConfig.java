package org.euterpe.nn.clap;

import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;

/**
 * Hyper-parameters of the CLAP text tower and its projection, with transformers'
 * {@code ClapTextConfig} defaults for absent keys.
 *
 * <p>Two config layouts exist: AudioLDM's {@code text_encoder} is a
 * {@code ClapTextModelWithProjection} ({@code model_type} {@code clap_text_model}, flat keys);
 * MusicLDM's is a whole {@code ClapModel} ({@code model_type} {@code clap}) whose text
 * settings sit in {@code text_config}, and whose top-level {@code projection_dim} and
 * {@code projection_hidden_act} override the text config's (as {@code ClapConfig} does).
 *
 * @param fullClapModel the checkpoint is a whole ClapModel (it also holds the audio branch)
 */
public record ClapTextConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
        int maxPositions, int typeVocabSize, double layerNormEps, int padTokenId, int projectionDim,
        boolean fullClapModel) {

    /** ClapConfig's and ClapTextConfig's default projection size. */
    private static final int DEFAULT_PROJECTION_DIM = 512;

    public ClapTextConfig {
        if (hiddenSize % numHeads != 0) {
            throw new ModelLoadException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numHeads);
        }
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Reads (and finishes) a text encoder config of either layout. */
    public static ClapTextConfig read(Config config) {
        String type = config.optString("model_type", "clap_text_model");
        ClapTextConfig c;
        switch (type) {
            case "clap_text_model" -> {
                config.require("projection_hidden_act", null, "relu");
                c = readText(config, config.optInt("projection_dim", DEFAULT_PROJECTION_DIM), false);
            }
            case "clap" -> {
                config.require("projection_hidden_act", null, "relu");
                int projectionDim = config.optInt("projection_dim", DEFAULT_PROJECTION_DIM);
                Config text = config.object("text_config");
                // overridden by the ClapModel's own settings above
                text.raw("projection_dim");
                text.raw("projection_hidden_act");
                text.require("model_type", null, "clap_text_model");
                c = readText(text, projectionDim, true);
                text.finish();
                config.raw("audio_config"); // the audio branch is not run
                config.raw("logit_scale_init_value"); // audio-text contrastive scoring only
                // copies ClapConfig derives from its sub-configs on save; recomputed, never read, by transformers
                config.raw("hidden_size");
                config.raw("num_hidden_layers");
            }
            default -> throw new ModelLoadException(config.context() + ": model_type \"" + type
                    + "\" is not a CLAP text encoder (expected clap_text_model or clap)");
        }
        config.finish();
        return c;
    }

    private static ClapTextConfig readText(Config t, int projectionDim, boolean fullClapModel) {
        t.require("hidden_act", null, "gelu");
        t.require("position_embedding_type", null, "absolute");
        // a decoder would apply a causal mask (IGNORED lists these keys, so check them here)
        t.require("is_decoder", null, false);
        t.require("add_cross_attention", null, false);
        // present in the published configs but unused by ClapTextModel / ClapProjectionLayer
        t.raw("classifier_dropout");
        t.raw("fusion_hidden_size");
        t.raw("fusion_num_hidden_layers");
        t.raw("projection_hidden_size");
        return new ClapTextConfig(
                t.optInt("vocab_size", 50265),
                t.optInt("hidden_size", 768),
                t.optInt("num_hidden_layers", 12),
                t.optInt("num_attention_heads", 12),
                t.optInt("intermediate_size", 3072),
                t.optInt("max_position_embeddings", 514),
                t.optInt("type_vocab_size", 1),
                t.optDouble("layer_norm_eps", 1e-12),
                t.optInt("pad_token_id", 1),
                projectionDim,
                fullClapModel);
    }
}
