package org.euterpe.nn.blocks;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.tensor.Tensor;

/** diffusers Upsample2D with {@code use_conv=True}: nearest-neighbour resize, then a 3x3 convolution. */
public final class Upsample2D {
    private final Conv2d conv;

    private Upsample2D(Conv2d conv) {
        this.conv = conv;
    }

    /** Reads {@code conv.weight [out, channels, 3, 3]} and {@code conv.bias}. */
    public static Upsample2D load(Weights w, int channels, int outChannels) {
        return new Upsample2D(Conv2d.load(w.child("conv"), channels, outChannels, 3, 1, 1));
    }

    /** {@code [batch, channels, h, w] -> [batch, out, 2h, 2w]}. */
    public Tensor forward(Tensor x) {
        return forward(x, 2 * x.dim(2), 2 * x.dim(3));
    }

    /**
     * Resize to an explicit size: the UNet passes the size of the matching skip connection when
     * the latent is not a multiple of its total downsampling factor (so 7 goes back to 13, not 14).
     *
     * @return {@code [batch, out, outH, outW]}
     */
    public Tensor forward(Tensor x, int outH, int outW) {
        try (Tensor up = x.upsampleNearest(outH, outW)) { // 4x the input: freed as soon as it is used
            return conv.forward(up);
        }
    }
}
