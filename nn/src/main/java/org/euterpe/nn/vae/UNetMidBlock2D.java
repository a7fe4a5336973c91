package org.euterpe.nn.vae;

import org.euterpe.nn.Weights;
import org.euterpe.nn.blocks.Attention;
import org.euterpe.nn.blocks.ResnetBlock2D;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers UNetMidBlock2D as the VAE builds it (no time embedding, one attention layer, eps
 * 1e-6): {@code resnets.1(attentions.0(resnets.0(x)))}, where the attention is the spatial
 * single-head form with group norm and residual connection.
 */
public final class UNetMidBlock2D {
    private final ResnetBlock2D resnet0;
    private final Attention attention;
    private final ResnetBlock2D resnet1;

    private UNetMidBlock2D(ResnetBlock2D resnet0, Attention attention, ResnetBlock2D resnet1) {
        this.resnet0 = resnet0;
        this.attention = attention;
        this.resnet1 = resnet1;
    }

    public static UNetMidBlock2D load(Weights w, int channels, int groups, double eps) {
        return new UNetMidBlock2D(
                ResnetBlock2D.load(w.child("resnets", 0), channels, channels, 0, groups, eps, 1.0),
                Attention.loadSpatial(w.child("attentions", 0), channels, groups, eps, 1.0),
                ResnetBlock2D.load(w.child("resnets", 1), channels, channels, 0, groups, eps, 1.0));
    }

    /** {@code [batch, channels, h, w] -> same}. */
    public Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            return scope.keep(resnet1.forward(attention.forward(resnet0.forward(x, null), null), null));
        }
    }
}
