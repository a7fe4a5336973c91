package org.euterpe.nn.dance;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * The three up blocks of diffusers' {@code unet_1d_blocks.py}. Each concatenates
 * {@code [h, skip]} along channels, then runs three {@link ResConvBlock}s
 * {@code (2 in, mid, mid), (mid, mid, mid), (mid, mid, out)}:
 * <ul>
 *   <li>{@code AttnUpBlock1D}: {@code mid = out}, a {@link SelfAttention1d} after every resnet, then
 *       upsample by 2;</li>
 *   <li>{@code UpBlock1D}: {@code mid = in}, then upsample by 2;</li>
 *   <li>{@code UpBlock1DNoSkip} (the last block): {@code mid = in}, no upsampling, and its last
 *       resnet ends after its second convolution ({@code is_last}).</li>
 * </ul>
 */
public final class UpBlock1D {
    private final String type;
    private final List<ResConvBlock> resnets;
    private final List<SelfAttention1d> attentions; // empty unless Attn
    private final Resample1d up; // null for NoSkip

    private UpBlock1D(String type, List<ResConvBlock> resnets, List<SelfAttention1d> attentions, Resample1d up) {
        this.type = type;
        this.resnets = resnets;
        this.attentions = attentions;
        this.up = up;
    }

    public static UpBlock1D load(Weights w, String type, int in, int out) {
        boolean attn = type.equals("AttnUpBlock1D");
        boolean last = type.equals("UpBlock1DNoSkip");
        int mid = attn ? out : in;
        List<ResConvBlock> resnets = new ArrayList<>();
        List<SelfAttention1d> attentions = new ArrayList<>();
        for (int j = 0; j < 3; j++) {
            int ci = j == 0 ? 2 * in : mid;
            int co = j == 2 ? out : mid;
            resnets.add(ResConvBlock.load(w.child("resnets", j), ci, mid, co, last && j == 2));
            if (attn) {
                attentions.add(SelfAttention1d.load(w.child("attentions", j), co));
            }
        }
        return new UpBlock1D(type, List.copyOf(resnets), List.copyOf(attentions), last ? null : Resample1d.up(w));
    }

    public String type() {
        return type;
    }

    /**
     * @param h    {@code [B, in, L]}
     * @param skip {@code [B, in, L]}, the matching down block's output
     * @return {@code [B, out, 2L]}, or {@code [B, out, L]} for NoSkip
     */
    public Tensor forward(Tensor h, Tensor skip, Trace trace) {
        try (Scope scope = Scope.open()) {
            Tensor x = h.backend().concat(List.of(h, skip), 1);
            for (int j = 0; j < resnets.size(); j++) {
                x = resnets.get(j).forward(x);
                trace.record("resnets." + j, x);
                if (!attentions.isEmpty()) {
                    x = attentions.get(j).forward(x);
                    trace.record("attentions." + j, x);
                }
            }
            if (up != null) {
                x = up.forward(x);
                trace.record("up", x);
            }
            return scope.keep(x);
        }
    }
}
