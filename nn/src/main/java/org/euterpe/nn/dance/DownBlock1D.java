package org.euterpe.nn.dance;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * The three down blocks of diffusers' {@code unet_1d_blocks.py}, which differ only in two
 * switches (the block type decides both; the config's {@code add_downsample} does not):
 * <ul>
 *   <li>{@code DownBlock1DNoSkip}: the time features are concatenated after the input channels; no
 *       resampling;</li>
 *   <li>{@code DownBlock1D}: downsample by 2 first;</li>
 *   <li>{@code AttnDownBlock1D}: downsample, and a {@link SelfAttention1d} after every resnet.</li>
 * </ul>
 * Three {@link ResConvBlock}s {@code (in, out, out), (out, out, out), (out, out, out)}; the
 * output is also the block's skip.
 */
public final class DownBlock1D {
    private final String type;
    private final Resample1d down; // null for NoSkip
    private final List<ResConvBlock> resnets;
    private final List<SelfAttention1d> attentions; // empty unless Attn

    private DownBlock1D(String type, Resample1d down, List<ResConvBlock> resnets, List<SelfAttention1d> attentions) {
        this.type = type;
        this.down = down;
        this.resnets = resnets;
        this.attentions = attentions;
    }

    public static DownBlock1D load(Weights w, String type, int in, int out) {
        boolean attn = type.equals("AttnDownBlock1D");
        Resample1d down = type.equals("DownBlock1DNoSkip") ? null : Resample1d.down(w);
        List<ResConvBlock> resnets = new ArrayList<>();
        List<SelfAttention1d> attentions = new ArrayList<>();
        for (int j = 0; j < 3; j++) {
            resnets.add(ResConvBlock.load(w.child("resnets", j), j == 0 ? in : out, out, out, false));
            if (attn) {
                attentions.add(SelfAttention1d.load(w.child("attentions", j), out));
            }
        }
        return new DownBlock1D(type, down, List.copyOf(resnets), List.copyOf(attentions));
    }

    public String type() {
        return type;
    }

    /**
     * @param x    {@code [B, in, L]} ({@code [B, in - 16, L]} for NoSkip, which appends {@code temb})
     * @param temb {@code [B, 16, L]}, the time features; read only by NoSkip
     * @return {@code [B, out, L]} (NoSkip) or {@code [B, out, L/2]}: the next input and the skip
     */
    public Tensor forward(Tensor x, Tensor temb, Trace trace) {
        try (Scope scope = Scope.open()) {
            Tensor h;
            if (down == null) {
                h = x.backend().concat(List.of(x, temb), 1);
                trace.record("resnets.0.input", h);
            } else {
                h = down.forward(x);
                trace.record("down", h);
            }
            for (int j = 0; j < resnets.size(); j++) {
                h = resnets.get(j).forward(h);
                trace.record("resnets." + j, h);
                if (!attentions.isEmpty()) {
                    h = attentions.get(j).forward(h);
                    trace.record("attentions." + j, h);
                }
            }
            return scope.keep(h);
        }
    }
}
