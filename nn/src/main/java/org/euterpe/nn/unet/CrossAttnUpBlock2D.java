package org.euterpe.nn.unet;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.nn.blocks.Upsample2D;

/** diffusers CrossAttnUpBlock2D: (resnet over state ++ skip, Transformer2DModel) pairs and an optional upsampler. */
public final class CrossAttnUpBlock2D extends UNetUpBlock {
    private CrossAttnUpBlock2D(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions,
            Upsample2D upsampler) {
        super(resnets, attentions, upsampler);
    }

    public static CrossAttnUpBlock2D load(Weights w, UNetBlockSpec s) {
        List<ResnetBlock2D> resnets = new ArrayList<>();
        List<Transformer2DModel> attentions = new ArrayList<>();
        for (int i = 0; i < s.layers(); i++) {
            resnets.add(s.resnet(w.child("resnets", i), UpBlock2D.resnetIn(s, i), s.out()));
            attentions.add(s.transformer(w.child("attentions", i), s.out()));
        }
        return new CrossAttnUpBlock2D(resnets, attentions, s.upsampler(w));
    }
}
