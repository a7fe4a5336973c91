package org.euterpe.nn.t5;

import org.euterpe.nn.Weights;
import org.euterpe.tensor.Tensor;

/**
 * T5's layer norm: a root-mean-square norm without mean subtraction and without bias,
 * {@code weight * x / sqrt(mean(x^2) + eps)} over the last dim.
 */
public final class T5LayerNorm {
    private final Tensor weight;
    private final float eps;

    public T5LayerNorm(Tensor weight, float eps) {
        this.weight = weight;
        this.eps = eps;
    }

    public static T5LayerNorm load(Weights w, int dim, double eps) {
        return new T5LayerNorm(w.get("weight", dim), (float) eps);
    }

    /** {@code x [..., d]} to {@code [..., d]}. */
    public Tensor forward(Tensor x) {
        return x.backend().rmsNorm(x, weight, eps);
    }
}
