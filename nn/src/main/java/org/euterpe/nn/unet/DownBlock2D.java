package org.euterpe.nn.unet;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.Downsample2D;
import org.euterpe.nn.blocks.ResnetBlock2D;

/** diffusers DownBlock2D: resnets and an optional downsampler, no attention. */
public final class DownBlock2D extends UNetDownBlock {
    private DownBlock2D(List<ResnetBlock2D> resnets, Downsample2D downsampler) {
        super(resnets, List.of(), downsampler);
    }

    public static DownBlock2D load(Weights w, UNetBlockSpec s) {
        List<ResnetBlock2D> resnets = new ArrayList<>();
        for (int i = 0; i < s.layers(); i++) {
            resnets.add(s.resnet(w.child("resnets", i), i == 0 ? s.in() : s.out(), s.out()));
        }
        return new DownBlock2D(resnets, s.downsampler(w));
    }
}
