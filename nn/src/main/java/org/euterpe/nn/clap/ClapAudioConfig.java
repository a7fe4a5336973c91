package org.euterpe.nn.clap;

import java.util.Arrays;

import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;

/**
 * Hyper-parameters of the CLAP audio tower (HTSAT, a Swin transformer over the log-mel image) and its
 * projection, read from a {@code ClapModel} config's {@code audio_config} with transformers'
 * {@code ClapAudioConfig} defaults; {@code projection_dim} comes from the ClapModel level, which overrides the
 * audio config's own (as {@code ClapConfig} does).
 *
 * @param patchEmbedsHiddenSize channels after the patch embedding; stage i has {@code patchEmbedsHiddenSize * 2^i}
 * @param hiddenSize            the projection's input: must equal the last stage's width
 */
public record ClapAudioConfig(int windowSize, int numMelBins, int specSize, int patchSize, int patchStride,
        int hiddenSize, int projectionDim, int[] depths, int[] numAttentionHeads, int patchEmbedInputChannels,
        int patchEmbedsHiddenSize, boolean enablePatchLayerNorm, boolean qkvBias, double mlpRatio,
        double layerNormEps) {

    /** transformers' BatchNorm2d/LayerNorm default, used where the module is built without the config's eps. */
    static final double TORCH_NORM_EPS = 1e-5;

    public ClapAudioConfig {
        if (depths.length == 0 || depths.length != numAttentionHeads.length) {
            throw new ModelLoadException("audio_config: depths " + Arrays.toString(depths) + " and num_attention_heads "
                    + Arrays.toString(numAttentionHeads) + " must be non-empty and of one length");
        }
        if (numMelBins <= 0 || specSize % numMelBins != 0) {
            throw new ModelLoadException("audio_config: spec_size " + specSize + " must be a multiple of num_mel_bins "
                    + numMelBins);
        }
        if (hiddenSize != lastStageWidth(patchEmbedsHiddenSize, depths.length)) {
            throw new ModelLoadException("audio_config: hidden_size " + hiddenSize + " is not the last stage's width "
                    + lastStageWidth(patchEmbedsHiddenSize, depths.length) + " (patch_embeds_hidden_size "
                    + patchEmbedsHiddenSize + " * 2^" + (depths.length - 1) + ")");
        }
        for (int i = 0; i < depths.length; i++) {
            int width = stageWidth(patchEmbedsHiddenSize, i);
            if (numAttentionHeads[i] <= 0 || width % numAttentionHeads[i] != 0) {
                throw new ModelLoadException("audio_config: stage " + i + " width " + width
                        + " is not a multiple of its " + numAttentionHeads[i] + " attention heads");
            }
        }
        if (patchSize <= 0 || patchStride <= 0 || patchSize < patchStride || windowSize <= 0) {
            throw new ModelLoadException("audio_config: bad patch_size " + patchSize + " / patch_stride " + patchStride
                    + " / window_size " + windowSize);
        }
    }

    static int stageWidth(int embed, int stage) {
        return embed << stage;
    }

    private static int lastStageWidth(int embed, int stages) {
        return stageWidth(embed, stages - 1);
    }

    /** {@code spec_size / num_mel_bins}: how many time strips are stacked along the frequency axis. */
    public int freqRatio() {
        return specSize / numMelBins;
    }

    /** Patches along each side of the {@code spec_size x spec_size} image. */
    public int gridSize() {
        return specSize / patchStride;
    }

    /**
     * Reads the audio branch of a whole ClapModel config. Options the engine does not implement are refused
     * by name: the fusion patch embedding (its AFF block), activations other than GELU.
     *
     * @param clap the ClapModel config (model_type {@code clap}); its own keys are not finished here
     */
    public static ClapAudioConfig read(Config clap) {
        int projectionDim = clap.optInt("projection_dim", 512);
        clap.require("projection_hidden_act", null, "relu");
        Config a = clap.object("audio_config");
        a.require("model_type", null, "clap_audio_model");
        a.require("hidden_act", null, "gelu");
        a.require("projection_hidden_act", null, "relu");
        if (a.optBoolean("enable_fusion", false)) {
            throw new ModelLoadException(a.context() + ": enable_fusion = true (the attentional feature fusion patch"
                    + " embedding of fused CLAP checkpoints) is not supported; unfused checkpoints are");
        }
        a.raw("fusion_type"); // only read with enable_fusion
        a.raw("aff_block_r");
        a.require("flatten_patch_embeds", null, true);
        a.raw("projection_dim"); // overridden by the ClapModel's projection_dim
        a.raw("num_classes"); // HTSAT's classification head is not part of ClapAudioModel
        a.raw("num_hidden_layers"); // bookkeeping: the stages come from depths
        a.raw("drop_path_rate"); // training only
        // present in published configs (AudioLDM 2) but read by no ClapAudio module
        a.raw("fusion_num_hidden_layers");
        a.raw("projection_hidden_size");
        // not a ClapAudioConfig parameter (kept as a stray attribute): the MLP width is mlp_ratio * dim
        a.raw("intermediate_size");
        // generic PretrainedConfig fields of full config dumps; an encoder-only Swin reads none of them
        a.require("is_decoder", null, false);
        a.require("add_cross_attention", null, false);
        a.raw("tie_encoder_decoder");
        int[] depths = a.has("depths") ? a.getIntArray("depths") : new int[] {2, 2, 6, 2};
        int[] heads = a.has("num_attention_heads") ? a.getIntArray("num_attention_heads") : new int[] {4, 8, 16, 32};
        int patchSize = a.optInt("patch_size", 4);
        int[] stride = a.intOrList("patch_stride", 2, 4);
        if (stride[0] != stride[1]) {
            throw new ModelLoadException(a.context() + ": patch_stride " + Arrays.toString(stride)
                    + " is not square (only square strides are supported)");
        }
        ClapAudioConfig c = new ClapAudioConfig(
                a.optInt("window_size", 8),
                a.optInt("num_mel_bins", 64),
                a.optInt("spec_size", 256),
                patchSize,
                stride[0],
                a.optInt("hidden_size", 768),
                projectionDim,
                depths,
                heads,
                a.optInt("patch_embed_input_channels", 1),
                a.optInt("patch_embeds_hidden_size", 96),
                a.optBoolean("enable_patch_layer_norm", true),
                a.optBoolean("qkv_bias", true),
                a.optDouble("mlp_ratio", 4.0),
                a.optDouble("layer_norm_eps", 1e-5));
        a.finish();
        return c;
    }
}
