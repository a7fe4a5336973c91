package org.euterpe.nn.unet;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.Downsample2D;
import org.euterpe.nn.blocks.ResnetBlock2D;

/** diffusers CrossAttnDownBlock2D: (resnet, Transformer2DModel) pairs and an optional downsampler. */
public final class CrossAttnDownBlock2D extends UNetDownBlock {
    private CrossAttnDownBlock2D(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions,
            Downsample2D downsampler) {
        super(resnets, attentions, downsampler);
    }

    public static CrossAttnDownBlock2D load(Weights w, UNetBlockSpec s) {
        List<ResnetBlock2D> resnets = new ArrayList<>();
        List<Transformer2DModel> attentions = new ArrayList<>();
        for (int i = 0; i < s.layers(); i++) {
            resnets.add(s.resnet(w.child("resnets", i), i == 0 ? s.in() : s.out(), s.out()));
            attentions.add(s.transformer(w.child("attentions", i), s.out()));
        }
        return new CrossAttnDownBlock2D(resnets, attentions, s.downsampler(w));
    }
}
