package org.euterpe.nn.dance;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.nn.layers.GroupNorm;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code ResConvBlock}: two 5-tap convolutions, each followed by a one-group GroupNorm
 * and exact GELU, plus a residual (a bias-free 1x1 convolution when the width changes). The
 * last block of the network ({@code is_last}) stops after the second convolution: no norm, no
 * activation.
 *
 * <pre>
 *   residual = conv_skip(x)                       [B, out, L]   (x itself when in == out)
 *   h = gelu(gn1(conv_1(x)))                      [B, mid, L]
 *   h = conv_2(h);  h = gelu(gn2(h)) unless last  [B, out, L]
 *   return h + residual
 * </pre>
 */
public final class ResConvBlock {
    private static final double EPS = 1e-5;

    private final Conv1d convSkip; // null when in == out
    private final Conv1d conv1;
    private final GroupNorm groupNorm1;
    private final Conv1d conv2;
    private final GroupNorm groupNorm2; // null for the last block
    private final int in;
    private final int out;

    private ResConvBlock(Conv1d convSkip, Conv1d conv1, GroupNorm groupNorm1, Conv1d conv2, GroupNorm groupNorm2,
            int in, int out) {
        this.convSkip = convSkip;
        this.conv1 = conv1;
        this.groupNorm1 = groupNorm1;
        this.conv2 = conv2;
        this.groupNorm2 = groupNorm2;
        this.in = in;
        this.out = out;
    }

    public static ResConvBlock load(Weights w, int in, int mid, int out, boolean isLast) {
        Conv1d skip = in == out ? null
                : new Conv1d(w.child("conv_skip").get("weight", out, in, 1), null, 1, 0, 1);
        return new ResConvBlock(skip,
                Conv1d.load(w.child("conv_1"), in, mid, 5, 1, 2, 1),
                GroupNorm.load(w.child("group_norm_1"), 1, mid, EPS),
                Conv1d.load(w.child("conv_2"), mid, out, 5, 1, 2, 1),
                isLast ? null : GroupNorm.load(w.child("group_norm_2"), 1, out, EPS),
                in, out);
    }

    public int outChannels() {
        return out;
    }

    /** {@code [B, in, L] -> [B, out, L]}. */
    public Tensor forward(Tensor x) {
        if (x.dim(1) != in) {
            throw new IllegalArgumentException("ResConvBlock expects " + in + " channels, got " + x.shape());
        }
        try (Scope scope = Scope.open()) {
            Tensor residual = convSkip != null ? convSkip.forward(x) : x;
            Tensor h = groupNorm1.forward(conv1.forward(x)).gelu();
            h = conv2.forward(h);
            if (groupNorm2 != null) {
                h = groupNorm2.forward(h).gelu();
            }
            return scope.keep(h.add(residual));
        }
    }
}
