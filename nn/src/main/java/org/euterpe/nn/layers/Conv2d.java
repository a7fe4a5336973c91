package org.euterpe.nn.layers;

import org.euterpe.nn.Weights;
import org.euterpe.nn.FlopCounter;
import org.euterpe.tensor.Tensor;

/** torch.nn.Conv2d with a square kernel, symmetric stride and padding. */
public final class Conv2d {
    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int padding;

    public Conv2d(Tensor weight, Tensor bias, int stride, int padding) {
        this.weight = weight;
        this.bias = bias;
        this.stride = stride;
        this.padding = padding;
    }

    /** Loads {@code weight [out, in, k, k]} and the optional bias. */
    public static Conv2d load(Weights w, int in, int out, int kernel, int stride, int padding) {
        return new Conv2d(w.get("weight", out, in, kernel, kernel), w.opt("bias", out), stride, padding);
    }

    /** {@code [batch, in, h, w] -> [batch, out, h', w']}. */
    public Tensor forward(Tensor x) {
        Tensor y = x.conv2d(weight, bias, stride, padding);
        FlopCounter.conv(y, weight);
        return y;
    }
}
