package org.euterpe.nn.layers;

import org.euterpe.nn.Weights;
import org.euterpe.nn.FlopCounter;
import org.euterpe.tensor.Tensor;

/**
 * torch.nn.ConvTranspose1d (groups 1, dilation 1, no output padding): {@code weight [in, out, k]}
 * (torch's layout for transposed convolutions), {@code bias [out]}.
 */
public final class ConvTranspose1d {
    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int padding;

    public ConvTranspose1d(Tensor weight, Tensor bias, int stride, int padding) {
        this.weight = weight;
        this.bias = bias;
        this.stride = stride;
        this.padding = padding;
    }

    public static ConvTranspose1d load(Weights w, int in, int out, int kernel, int stride, int padding) {
        return new ConvTranspose1d(w.get("weight", in, out, kernel), w.get("bias", out), stride, padding);
    }

    /** {@code [batch, in, length] -> [batch, out, (length-1)*stride - 2*padding + k]}. */
    public Tensor forward(Tensor x) {
        FlopCounter.convTranspose(x, weight);
        return x.backend().convTranspose1d(x, weight, bias, stride, padding, 0, 1);
    }
}
