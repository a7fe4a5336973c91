package org.euterpe.nn.unet;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.Downsample2D;
import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.nn.blocks.Upsample2D;

/**
 * The arguments diffusers' {@code get_down_block} / {@code get_up_block} pass to one UNet block,
 * resolved from the UNet config, plus the factories for the parts every block type shares.
 *
 * @param in                  input channels ({@code in_channels}; for up blocks the skip width of the last resnet)
 * @param out                 output channels
 * @param prevOut             up blocks: channels coming from the previous block; unused for down blocks
 * @param layers              number of resnets
 * @param tembChannels        width of the (possibly concatenated) time embedding
 * @param groups              GroupNorm groups
 * @param eps                 GroupNorm eps of the resnets
 * @param outputScaleFactor   resnet output divisor
 * @param heads               attention heads of the transformers ({@code num_attention_heads})
 * @param transformerLayers   BasicTransformerBlocks per transformer
 * @param crossAttentionDim   width of the encoder hidden states
 * @param useLinearProjection transformer proj_in/out as linear instead of 1x1 conv
 * @param resample            whether the block ends with a down- or upsampler
 * @param downsamplePadding   padding of the downsampler conv (1, or 0 with asymmetric pre-padding)
 */
public record UNetBlockSpec(int in, int out, int prevOut, int layers, int tembChannels, int groups, double eps,
        double outputScaleFactor, int heads, int transformerLayers, int crossAttentionDim,
        boolean useLinearProjection, boolean resample, int downsamplePadding) {

    ResnetBlock2D resnet(Weights w, int resnetIn, int resnetOut) {
        return ResnetBlock2D.load(w, resnetIn, resnetOut, tembChannels, groups, eps, outputScaleFactor);
    }

    Transformer2DModel transformer(Weights w, int channels) {
        return Transformer2DModel.load(w, channels, heads, transformerLayers, crossAttentionDim, groups,
                useLinearProjection);
    }

    Downsample2D downsampler(Weights w) {
        return resample ? Downsample2D.load(w.child("downsamplers", 0), out, out, downsamplePadding) : null;
    }

    Upsample2D upsampler(Weights w) {
        return resample ? Upsample2D.load(w.child("upsamplers", 0), out, out) : null;
    }
}
