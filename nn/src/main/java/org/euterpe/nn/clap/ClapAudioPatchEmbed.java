package org.euterpe.nn.clap;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.nn.layers.LayerNorm;
import org.euterpe.tensor.Tensor;

/**
 * {@code audio_encoder.patch_embed}: the {@code spec_size x spec_size} log-mel image cut into patches by a strided
 * convolution, flattened to tokens and layer-normed. (The fusion variant is refused by {@link ClapAudioConfig}.)
 */
final class ClapAudioPatchEmbed {
    private final Conv2d proj;
    private final LayerNorm norm; // null without enable_patch_layer_norm
    private final int inChannels;
    private final int imageSize;

    private ClapAudioPatchEmbed(Conv2d proj, LayerNorm norm, int inChannels, int imageSize) {
        this.proj = proj;
        this.norm = norm;
        this.inChannels = inChannels;
        this.imageSize = imageSize;
    }

    static ClapAudioPatchEmbed load(Weights w, ClapAudioConfig c) {
        int padding = (c.patchSize() - c.patchStride()) / 2;
        int hidden = c.patchEmbedsHiddenSize();
        return new ClapAudioPatchEmbed(
                Conv2d.load(w.child("proj"), c.patchEmbedInputChannels(), hidden, c.patchSize(), c.patchStride(),
                        padding),
                c.enablePatchLayerNorm() ? LayerNorm.load(w.child("norm"), hidden, ClapAudioConfig.TORCH_NORM_EPS)
                        : null,
                c.patchEmbedInputChannels(), c.specSize());
    }

    /**
     * @param image {@code [batch, channels, spec, spec]}
     * @return {@code [batch, grid*grid, hidden]}, tokens in row-major (frequency, time) order
     */
    Tensor forward(Tensor image) {
        if (image.dim(1) != inChannels || image.dim(2) != imageSize || image.dim(3) != imageSize) {
            throw new IllegalArgumentException("CLAP audio input " + image.shape() + " does not match the model's "
                    + inChannels + " x " + imageSize + " x " + imageSize + " patch embedding (the feature extractor's"
                    + " truncation decides the channel count: fusion gives 4, rand_trunc 1)");
        }
        Tensor x = proj.forward(image); // [b, hidden, grid, grid]
        int b = x.dim(0);
        int hidden = x.dim(1);
        Tensor tokens = x.reshape(b, hidden, x.dim(2) * x.dim(3)).permute(0, 2, 1);
        return norm == null ? tokens : norm.forward(tokens);
    }
}
