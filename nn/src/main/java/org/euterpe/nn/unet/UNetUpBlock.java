package org.euterpe.nn.unet;

import java.util.List;

import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.nn.blocks.Upsample2D;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * An up block of the UNet: each resnet takes the running state concatenated (on channels) with
 * the most recent unused skip connection; in the cross-attention variant a transformer follows
 * each resnet; then an optional upsampler.
 */
public abstract sealed class UNetUpBlock permits UpBlock2D, CrossAttnUpBlock2D {
    private final List<ResnetBlock2D> resnets;
    private final List<Transformer2DModel> attentions;
    private final Upsample2D upsampler;

    UNetUpBlock(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions, Upsample2D upsampler) {
        this.resnets = resnets;
        this.attentions = attentions;
        this.upsampler = upsampler;
    }

    /** Number of skip connections this block consumes. */
    public int numSkips() {
        return resnets.size();
    }

    /**
     * @param x          {@code [batch, prevOut, h, w]}
     * @param skips      the skip connections still unused; this block removes its
     *                   {@link #numSkips()} from the end
     * @param tembAct    time embedding after SiLU
     * @param context    encoder hidden states or null
     * @param upsampleTo {@code {height, width}} the upsampler resizes to, or null for 2x
     * @return {@code [batch, out, h', w']}
     */
    public Tensor forward(Tensor x, List<Tensor> skips, Tensor tembAct, Tensor context, int[] upsampleTo) {
        try (Scope scope = Scope.open()) {
            Tensor h = x;
            for (int i = 0; i < resnets.size(); i++) {
                Tensor skip = skips.removeLast();
                h = x.backend().concat(List.of(h, skip), 1);
                h = resnets.get(i).forward(h, tembAct);
                if (!attentions.isEmpty()) {
                    h = attentions.get(i).forward(h, context);
                }
            }
            if (upsampler != null) {
                h = upsampleTo != null ? upsampler.forward(h, upsampleTo[0], upsampleTo[1]) : upsampler.forward(h);
            }
            return scope.keep(h);
        }
    }
}
