package org.euterpe.nn.unet;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/** diffusers FeedForward with the GEGLU activation (the default): {@code net.2(net.0(x))}, inner width 4*dim. */
public final class FeedForward {
    private final GEGLU geglu;
    private final Linear out;

    private FeedForward(GEGLU geglu, Linear out) {
        this.geglu = geglu;
        this.out = out;
    }

    public static FeedForward load(Weights w, int dim) {
        int inner = 4 * dim;
        Weights net = w.child("net");
        return new FeedForward(GEGLU.load(net.child("0"), dim, inner), Linear.load(net.child("2"), inner, dim));
    }

    /** {@code [..., dim] -> [..., dim]}. */
    public Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            return scope.keep(out.forward(geglu.forward(x)));
        }
    }
}
