package org.euterpe.nn.unet;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/** diffusers UNetMidBlock2DCrossAttn (num_layers 1): {@code resnets.1(attentions.0(resnets.0(x)))}. */
public final class UNetMidBlock2DCrossAttn {
    private final ResnetBlock2D first;
    private final List<Transformer2DModel> attentions;
    private final List<ResnetBlock2D> resnets;

    private UNetMidBlock2DCrossAttn(ResnetBlock2D first, List<Transformer2DModel> attentions,
            List<ResnetBlock2D> resnets) {
        this.first = first;
        this.attentions = attentions;
        this.resnets = resnets;
    }

    /** {@code s.in() == s.out()} = the deepest block width; {@code s.layers()} transformer/resnet pairs. */
    public static UNetMidBlock2DCrossAttn load(Weights w, UNetBlockSpec s) {
        int c = s.out();
        List<Transformer2DModel> attentions = new ArrayList<>();
        List<ResnetBlock2D> resnets = new ArrayList<>();
        for (int i = 0; i < s.layers(); i++) {
            attentions.add(s.transformer(w.child("attentions", i), c));
            resnets.add(s.resnet(w.child("resnets", i + 1), c, c));
        }
        return new UNetMidBlock2DCrossAttn(s.resnet(w.child("resnets", 0), c, c), attentions, resnets);
    }

    /** {@code [batch, c, h, w] -> same}. */
    public Tensor forward(Tensor x, Tensor tembAct, Tensor context) {
        try (Scope scope = Scope.open()) {
            Tensor h = first.forward(x, tembAct);
            for (int i = 0; i < attentions.size(); i++) {
                h = resnets.get(i).forward(attentions.get(i).forward(h, context), tembAct);
            }
            return scope.keep(h);
        }
    }
}
