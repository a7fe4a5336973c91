package org.euterpe.nn.blocks;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.tensor.Tensor;

/**
 * diffusers Downsample2D with {@code use_conv=True}: a 3x3 convolution of stride 2. With
 * {@code padding = 0} (the VAE encoder) the input is first padded by one on the right and the
 * bottom only, as the reference does: sizes then halve rounding down, with padding 1 rounding up.
 */
public final class Downsample2D {
    private final Conv2d conv;
    private final int padding;

    private Downsample2D(Conv2d conv, int padding) {
        this.conv = conv;
        this.padding = padding;
    }

    /** Reads {@code conv.weight [out, channels, 3, 3]} and {@code conv.bias}. */
    public static Downsample2D load(Weights w, int channels, int outChannels, int padding) {
        return new Downsample2D(Conv2d.load(w.child("conv"), channels, outChannels, 3, 2, padding), padding);
    }

    /** {@code [batch, channels, h, w] -> [batch, out, ceil(h/2), ceil(w/2)]}; {@code floor} for padding 0. */
    public Tensor forward(Tensor x) {
        if (padding == 0) {
            return conv.forward(x.pad(new int[] {0, 1, 0, 1}, 0f));
        }
        return conv.forward(x);
    }
}
