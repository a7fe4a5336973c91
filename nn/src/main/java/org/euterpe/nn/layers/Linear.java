package org.euterpe.nn.layers;

import org.euterpe.nn.Weights;
import org.euterpe.nn.FlopCounter;
import org.euterpe.tensor.Tensor;

/** torch.nn.Linear: {@code weight [out, in]}, optional {@code bias [out]}. */
public final class Linear {
    private final Tensor weight;
    private final Tensor bias;

    public Linear(Tensor weight, Tensor bias) {
        this.weight = weight;
        this.bias = bias;
    }

    /** Loads {@code weight} (and {@code bias} when present) checking {@code [out, in]}. */
    public static Linear load(Weights w, int in, int out) {
        return new Linear(w.get("weight", out, in), w.opt("bias", out));
    }

    /**
     * Loads {@code weight [out, in]} and, when {@code bias}, a required {@code bias [out]}: for
     * models whose layers all have one, so a checkpoint missing it fails to load.
     */
    public static Linear load(Weights w, int in, int out, boolean bias) {
        return new Linear(w.get("weight", out, in), bias ? w.get("bias", out) : null);
    }

    /** {@code [..., in] -> [..., out]}. */
    public Tensor forward(Tensor x) {
        FlopCounter.linear(x, weight);
        return x.linear(weight, bias);
    }

    public int inFeatures() {
        return weight.dim(1);
    }

    public int outFeatures() {
        return weight.dim(0);
    }
}
