package org.euterpe.nn.layers;

import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Tensor;

/** torch.nn.GroupNorm with affine {@code weight [channels]} and {@code bias [channels]}. */
public final class GroupNorm {
    private final int groups;
    private final Tensor weight;
    private final Tensor bias;
    private final float eps;

    public GroupNorm(int groups, Tensor weight, Tensor bias, float eps) {
        this.groups = groups;
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
    }

    public static GroupNorm load(Weights w, int groups, int channels, double eps) {
        if (channels % groups != 0) {
            throw new IllegalArgumentException(w.key("weight") + ": " + channels + " channels are not divisible into "
                    + groups + " groups");
        }
        return new GroupNorm(groups, w.get("weight", channels), w.get("bias", channels), (float) eps);
    }

    /** {@code [batch, channels, ...] -> same}. */
    public Tensor forward(Tensor x) {
        return x.groupNorm(groups, weight, bias, eps);
    }

    /**
     * GroupNorm then SiLU, fused unless {@code trace} listens: it then records the norm's own
     * output under {@code name} (the reference module's output, before the activation).
     */
    public Tensor forwardSilu(Tensor x, Trace trace, String name) {
        if (!trace.enabled()) {
            return forwardSilu(x);
        }
        Tensor h = forward(x);
        trace.record(name, h);
        return h.silu();
    }

    /** GroupNorm followed by SiLU, fused: the common pre-activation of ResnetBlock2D. */
    public Tensor forwardSilu(Tensor x) {
        return x.groupNormSilu(groups, weight, bias, eps);
    }
}
