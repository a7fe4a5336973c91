package org.euterpe.nn.unet;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.nn.blocks.Upsample2D;

/** diffusers UpBlock2D: resnets over (state ++ skip) and an optional upsampler, no attention. */
public final class UpBlock2D extends UNetUpBlock {
    private UpBlock2D(List<ResnetBlock2D> resnets, Upsample2D upsampler) {
        super(resnets, List.of(), upsampler);
    }

    public static UpBlock2D load(Weights w, UNetBlockSpec s) {
        List<ResnetBlock2D> resnets = new ArrayList<>();
        for (int i = 0; i < s.layers(); i++) {
            resnets.add(s.resnet(w.child("resnets", i), resnetIn(s, i), s.out()));
        }
        return new UpBlock2D(resnets, s.upsampler(w));
    }

    /**
     * Input width of resnet {@code i}: the running state (prevOut for the first, out after) plus
     * the skip it consumes (the down block's input width for the last, its output width before).
     */
    static int resnetIn(UNetBlockSpec s, int i) {
        int running = i == 0 ? s.prevOut() : s.out();
        int skip = i == s.layers() - 1 ? s.in() : s.out();
        return running + skip;
    }
}
