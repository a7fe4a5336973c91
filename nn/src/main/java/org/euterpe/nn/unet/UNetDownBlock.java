package org.euterpe.nn.unet;

import java.util.List;

import org.euterpe.nn.blocks.Downsample2D;
import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * A down block of the UNet: resnets, each followed by a transformer in the cross-attention
 * variant, then an optional downsampler. Every resnet (or transformer) output and the
 * downsampler output are skip connections for the up path.
 */
public abstract sealed class UNetDownBlock permits DownBlock2D, CrossAttnDownBlock2D {
    private final List<ResnetBlock2D> resnets;
    private final List<Transformer2DModel> attentions;
    private final Downsample2D downsampler;

    UNetDownBlock(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions, Downsample2D downsampler) {
        this.resnets = resnets;
        this.attentions = attentions;
        this.downsampler = downsampler;
    }

    /** Number of skip connections this block produces. */
    public int numSkips() {
        return resnets.size() + (downsampler != null ? 1 : 0);
    }

    /**
     * @param x       {@code [batch, in, h, w]}
     * @param tembAct time embedding after SiLU, {@code [batch, tembChannels]}
     * @param context encoder hidden states or null
     * @param skips   receives the block's skip connections, in order
     * @return the block output {@code [batch, out, h', w']} (halved size when it downsamples)
     */
    public Tensor forward(Tensor x, Tensor tembAct, Tensor context, List<Tensor> skips) {
        try (Scope scope = Scope.open()) {
            Tensor h = x;
            for (int i = 0; i < resnets.size(); i++) {
                h = resnets.get(i).forward(h, tembAct);
                if (!attentions.isEmpty()) {
                    h = attentions.get(i).forward(h, context);
                }
                skips.add(scope.keep(h));
            }
            if (downsampler != null) {
                h = downsampler.forward(h);
                skips.add(scope.keep(h));
            }
            return h;
        }
    }
}
