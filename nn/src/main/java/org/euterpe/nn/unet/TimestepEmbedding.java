package org.euterpe.nn.unet;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Tensor;

/** diffusers TimestepEmbedding with SiLU and no post-activation: {@code linear_2(silu(linear_1(x)))}. */
public final class TimestepEmbedding {
    private final Linear linear1;
    private final Linear linear2;

    private TimestepEmbedding(Linear linear1, Linear linear2) {
        this.linear1 = linear1;
        this.linear2 = linear2;
    }

    public static TimestepEmbedding load(Weights w, int in, int timeEmbedDim) {
        return new TimestepEmbedding(Linear.load(w.child("linear_1"), in, timeEmbedDim),
                Linear.load(w.child("linear_2"), timeEmbedDim, timeEmbedDim));
    }

    /** {@code [batch, in] -> [batch, timeEmbedDim]}. */
    public Tensor forward(Tensor x) {
        return linear2.forward(linear1.forward(x).silu());
    }
}
