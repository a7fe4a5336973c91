package org.euterpe.nn.t5;

import org.euterpe.nn.Weights;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

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
        try (Scope scope = Scope.open()) {
            Tensor variance = x.mul(x).mean(x.rank() - 1, true);
            Tensor rms = x.backend().unary(UnaryOp.SQRT, variance.add(eps), 0f);
            return scope.keep(x.div(rms).mul(weight));
        }
    }
}
