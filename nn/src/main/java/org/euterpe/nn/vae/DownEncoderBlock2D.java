package org.euterpe.nn.vae;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.Downsample2D;
import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers DownEncoderBlock2D: resnets without time embedding, then (except in the last block)
 * a stride-2 conv with the encoder's asymmetric padding ({@code downsample_padding=0}).
 */
public final class DownEncoderBlock2D {
    private final List<ResnetBlock2D> resnets;
    private final Downsample2D downsampler;

    private DownEncoderBlock2D(List<ResnetBlock2D> resnets, Downsample2D downsampler) {
        this.resnets = resnets;
        this.downsampler = downsampler;
    }

    public static DownEncoderBlock2D load(Weights w, int in, int out, int layers, int groups, double eps,
            boolean addDownsample) {
        List<ResnetBlock2D> resnets = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            resnets.add(ResnetBlock2D.load(w.child("resnets", i), i == 0 ? in : out, out, 0, groups, eps, 1.0));
        }
        return new DownEncoderBlock2D(resnets,
                addDownsample ? Downsample2D.load(w.child("downsamplers", 0), out, out, 0) : null);
    }

    /** {@code [batch, in, h, w] -> [batch, out, h', w']}, halved (rounding down) when it downsamples. */
    public Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor h = x;
            for (ResnetBlock2D r : resnets) {
                h = r.forward(h, null);
            }
            if (downsampler != null) {
                h = downsampler.forward(h);
            }
            return scope.keep(h);
        }
    }
}
