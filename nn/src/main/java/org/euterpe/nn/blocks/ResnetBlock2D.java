package org.euterpe.nn.blocks;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.nn.layers.GroupNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers ResnetBlock2D as the UNet and the VAE use it (pre-norm, SiLU, no up/down sampling,
 * {@code time_embedding_norm="default"}):
 *
 * <pre>
 * h = conv1(silu(norm1(x)))
 * h = h + time_emb_proj(silu(temb))[:, :, None, None]     (when the block has a time embedding)
 * h = conv2(silu(norm2(h)))
 * out = (shortcut(x) + h) / output_scale_factor           (shortcut = 1x1 conv when channels change)
 * </pre>
 */
public final class ResnetBlock2D {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final Linear timeEmbProj;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d convShortcut;
    private final float outputScaleFactor;

    private ResnetBlock2D(GroupNorm norm1, Conv2d conv1, Linear timeEmbProj, GroupNorm norm2, Conv2d conv2,
            Conv2d convShortcut, float outputScaleFactor) {
        this.norm1 = norm1;
        this.conv1 = conv1;
        this.timeEmbProj = timeEmbProj;
        this.norm2 = norm2;
        this.conv2 = conv2;
        this.convShortcut = convShortcut;
        this.outputScaleFactor = outputScaleFactor;
    }

    /**
     * @param tembChannels width of the time embedding, or 0 for a block without one (the VAE)
     */
    public static ResnetBlock2D load(Weights w, int in, int out, int tembChannels, int groups, double eps,
            double outputScaleFactor) {
        return new ResnetBlock2D(
                GroupNorm.load(w.child("norm1"), groups, in, eps),
                Conv2d.load(w.child("conv1"), in, out, 3, 1, 1),
                tembChannels > 0 ? Linear.load(w.child("time_emb_proj"), tembChannels, out) : null,
                GroupNorm.load(w.child("norm2"), groups, out, eps),
                Conv2d.load(w.child("conv2"), out, out, 3, 1, 1),
                in != out ? Conv2d.load(w.child("conv_shortcut"), in, out, 1, 1, 0) : null,
                (float) outputScaleFactor);
    }

    /**
     * @param x       {@code [batch, in, h, w]}
     * @param tembAct the time embedding <em>after</em> its SiLU, {@code [batch, tembChannels]}, or
     *                null for a block without one. The UNet applies the SiLU once for all blocks.
     * @return {@code [batch, out, h, w]}
     */
    public Tensor forward(Tensor x, Tensor tembAct) {
        // Each full-size intermediate is closed as soon as the next exists, so the block holds
        // at most three at a time rather than six until its scope ends (the VAE's last level has
        // 33 MB activations at 10 s of audio); the scope still catches anything else.
        if (timeEmbProj != null && tembAct == null) {
            throw new IllegalArgumentException("this ResnetBlock2D needs a time embedding");
        }
        try (Scope scope = Scope.open()) {
            Tensor h;
            try (Tensor a = norm1.forwardSilu(x)) {
                h = conv1.forward(a);
            }
            if (timeEmbProj != null) {
                Tensor t = timeEmbProj.forward(tembAct);
                try (Tensor prev = h) {
                    h = prev.add(t.reshape(t.dim(0), t.dim(1), 1, 1));
                }
            }
            try (Tensor prev = h; Tensor a = norm2.forwardSilu(prev)) {
                h = conv2.forward(a);
            }
            Tensor out;
            try (Tensor residual = h; Tensor shortcut = convShortcut != null ? convShortcut.forward(x) : null) {
                out = (shortcut != null ? shortcut : x).add(residual);
            }
            if (outputScaleFactor != 1f) {
                try (Tensor prev = out) {
                    out = prev.div(outputScaleFactor);
                }
            }
            return scope.keep(out);
        }
    }
}
