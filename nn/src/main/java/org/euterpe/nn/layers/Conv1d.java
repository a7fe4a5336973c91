package org.euterpe.nn.layers;

import org.euterpe.nn.Weights;
import org.euterpe.nn.FlopCounter;
import org.euterpe.tensor.Tensor;

/** torch.nn.Conv1d (groups 1): {@code weight [out, in, k]}, {@code bias [out]}. */
public final class Conv1d {
    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int padding;
    private final int dilation;

    public Conv1d(Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        this.weight = weight;
        this.bias = bias;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
    }

    public static Conv1d load(Weights w, int in, int out, int kernel, int stride, int padding, int dilation) {
        return new Conv1d(w.get("weight", out, in, kernel), w.get("bias", out), stride, padding, dilation);
    }

    /** {@code [batch, in, length] -> [batch, out, length']}. */
    public Tensor forward(Tensor x) {
        Tensor y = x.conv1d(weight, bias, stride, padding, dilation);
        FlopCounter.conv(y, weight);
        return y;
    }
}
