package org.euterpe.nn.vae;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.nn.blocks.Upsample2D;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/** diffusers UpDecoderBlock2D: resnets without time embedding, then (except in the last block) a 2x upsampler. */
public final class UpDecoderBlock2D {
    private final List<ResnetBlock2D> resnets;
    private final Upsample2D upsampler;

    private UpDecoderBlock2D(List<ResnetBlock2D> resnets, Upsample2D upsampler) {
        this.resnets = resnets;
        this.upsampler = upsampler;
    }

    public static UpDecoderBlock2D load(Weights w, int in, int out, int layers, int groups, double eps,
            boolean addUpsample) {
        List<ResnetBlock2D> resnets = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            resnets.add(ResnetBlock2D.load(w.child("resnets", i), i == 0 ? in : out, out, 0, groups, eps, 1.0));
        }
        return new UpDecoderBlock2D(resnets, addUpsample ? Upsample2D.load(w.child("upsamplers", 0), out, out) : null);
    }

    /** {@code [batch, in, h, w] -> [batch, out, h', w']}, doubled when it upsamples. */
    public Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            // Each block's output is closed once the next exists (not the caller's input).
            Tensor h = x;
            for (ResnetBlock2D r : resnets) {
                Tensor next = r.forward(h, null);
                if (h != x) {
                    h.close();
                }
                h = next;
            }
            if (upsampler != null) {
                Tensor next = upsampler.forward(h);
                if (h != x) {
                    h.close();
                }
                h = next;
            }
            return scope.keep(h);
        }
    }
}
