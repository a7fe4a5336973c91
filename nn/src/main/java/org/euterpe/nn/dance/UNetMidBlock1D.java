package org.euterpe.nn.dance;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code UNetMidBlock1D}: downsample by 2, six (ResConvBlock, SelfAttention1d) pairs at
 * one width, upsample by 2. It resamples by itself, so the network divides the length by
 * {@code 2^len(up_blocks)} at its centre.
 */
public final class UNetMidBlock1D {
    private final Resample1d down;
    private final List<ResConvBlock> resnets;
    private final List<SelfAttention1d> attentions;
    private final Resample1d up;

    private UNetMidBlock1D(Resample1d down, List<ResConvBlock> resnets, List<SelfAttention1d> attentions,
            Resample1d up) {
        this.down = down;
        this.resnets = resnets;
        this.attentions = attentions;
        this.up = up;
    }

    public static UNetMidBlock1D load(Weights w, int channels) {
        List<ResConvBlock> resnets = new ArrayList<>();
        List<SelfAttention1d> attentions = new ArrayList<>();
        for (int j = 0; j < 6; j++) {
            resnets.add(ResConvBlock.load(w.child("resnets", j), channels, channels, channels, false));
            attentions.add(SelfAttention1d.load(w.child("attentions", j), channels));
        }
        return new UNetMidBlock1D(Resample1d.down(w), List.copyOf(resnets), List.copyOf(attentions),
                Resample1d.up(w));
    }

    /** {@code [B, C, L] -> [B, C, L]} (through {@code L/2} inside). */
    public Tensor forward(Tensor x, Trace trace) {
        try (Scope scope = Scope.open()) {
            Tensor h = down.forward(x);
            trace.record("down", h);
            for (int j = 0; j < resnets.size(); j++) {
                h = resnets.get(j).forward(h);
                trace.record("resnets." + j, h);
                h = attentions.get(j).forward(h);
                trace.record("attentions." + j, h);
            }
            h = up.forward(h);
            trace.record("up", h);
            return scope.keep(h);
        }
    }
}
