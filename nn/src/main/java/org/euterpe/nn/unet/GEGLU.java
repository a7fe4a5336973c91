package org.euterpe.nn.unet;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Tensor;

/**
 * diffusers GEGLU: {@code proj} maps to {@code 2 * out}; the first half is gated by the exact GELU
 * of the second, {@code a * gelu(gate)}.
 *
 * <p>The projection's weight rows are split at load (two views of one tensor), so the halves come
 * out of two matmuls instead of being copied out of one activation. I8 weights cannot be viewed
 * that way (their per-row scales stay with the whole tensor): they keep one projection and the
 * activation is split.
 */
public final class GEGLU {
    private final Linear value;
    private final Linear gate;
    private final Linear proj;

    private GEGLU(Linear value, Linear gate, Linear proj) {
        this.value = value;
        this.gate = gate;
        this.proj = proj;
    }

    public static GEGLU load(Weights w, int in, int out) {
        Tensor weight = w.get("proj.weight", 2 * out, in);
        Tensor bias = w.opt("proj.bias", 2 * out);
        if (weight.dtype() == DType.I8) {
            return new GEGLU(null, null, new Linear(weight, bias));
        }
        return new GEGLU(
                new Linear(weight.slice(0, 0, out), bias != null ? bias.slice(0, 0, out) : null),
                new Linear(weight.slice(0, out, 2 * out), bias != null ? bias.slice(0, out, 2 * out) : null),
                null);
    }

    /** {@code [..., in] -> [..., out]}. */
    public Tensor forward(Tensor x) {
        if (proj == null) {
            return value.forward(x).mul(gate.forward(x).gelu());
        }
        Tensor p = proj.forward(x);
        int out = p.dim(p.rank() - 1) / 2;
        return p.slice(-1, 0, out).mul(p.slice(-1, out, 2 * out).gelu());
    }
}
