package org.euterpe.nn.layers;

import org.euterpe.nn.Weights;
import org.euterpe.tensor.Tensor;

/** torch.nn.LayerNorm over the last dim, with affine {@code weight [d]} and {@code bias [d]}. */
public final class LayerNorm {
    private final Tensor weight;
    private final Tensor bias;
    private final float eps;

    public LayerNorm(Tensor weight, Tensor bias, float eps) {
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
    }

    public static LayerNorm load(Weights w, int dim, double eps) {
        return new LayerNorm(w.get("weight", dim), w.get("bias", dim), (float) eps);
    }

    /** {@code [..., d] -> [..., d]}. */
    public Tensor forward(Tensor x) {
        return x.layerNorm(weight, bias, eps);
    }
}
