package org.euterpe.nn.unet;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Tensor;

/**
 * diffusers GEGLU: {@code proj} maps to {@code 2 * out}; the first half is gated by the exact GELU
 * of the second, {@code a * gelu(gate)}. The projection's weight rows are split at load (two
 * views of one tensor) so the halves come out of two matmuls instead of a copy of the activation.
 */
public final class GEGLU {
    private final Linear value;
    private final Linear gate;

    private GEGLU(Linear value, Linear gate) {
        this.value = value;
        this.gate = gate;
    }

    public static GEGLU load(Weights w, int in, int out) {
        Tensor weight = w.get("proj.weight", 2 * out, in);
        Tensor bias = w.opt("proj.bias", 2 * out);
        return new GEGLU(
                new Linear(weight.slice(0, 0, out), bias != null ? bias.slice(0, 0, out) : null),
                new Linear(weight.slice(0, out, 2 * out), bias != null ? bias.slice(0, out, 2 * out) : null));
    }

    /** {@code [..., in] -> [..., out]}. */
    public Tensor forward(Tensor x) {
        return value.forward(x).mul(gate.forward(x).gelu());
    }
}
