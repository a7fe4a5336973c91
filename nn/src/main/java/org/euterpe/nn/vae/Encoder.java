package org.euterpe.nn.vae;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.nn.layers.GroupNorm;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers vae.Encoder ({@code double_z=True}):
 * {@code conv_out(silu(conv_norm_out(mid_block(down_blocks(conv_in(x))))))}, producing the
 * mean and log-variance of the latent distribution stacked on channels.
 */
public final class Encoder {
    static final double EPS = 1e-6;

    private final Conv2d convIn;
    private final List<DownEncoderBlock2D> downBlocks;
    private final UNetMidBlock2D midBlock;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    private Encoder(Conv2d convIn, List<DownEncoderBlock2D> downBlocks, UNetMidBlock2D midBlock,
            GroupNorm convNormOut, Conv2d convOut) {
        this.convIn = convIn;
        this.downBlocks = downBlocks;
        this.midBlock = midBlock;
        this.convNormOut = convNormOut;
        this.convOut = convOut;
    }

    /**
     * @param latentChannels the encoder outputs twice this many channels (mean and log-variance)
     */
    public static Encoder load(Weights w, int inChannels, int latentChannels, int[] blockOut, int layersPerBlock,
            int groups) {
        int n = blockOut.length;
        List<DownEncoderBlock2D> down = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int in = blockOut[Math.max(i - 1, 0)];
            down.add(DownEncoderBlock2D.load(w.child("down_blocks", i), in, blockOut[i], layersPerBlock, groups, EPS,
                    i < n - 1));
        }
        int deepest = blockOut[n - 1];
        return new Encoder(
                Conv2d.load(w.child("conv_in"), inChannels, blockOut[0], 3, 1, 1),
                down,
                UNetMidBlock2D.load(w.child("mid_block"), deepest, groups, EPS),
                GroupNorm.load(w.child("conv_norm_out"), groups, deepest, EPS),
                Conv2d.load(w.child("conv_out"), deepest, 2 * latentChannels, 3, 1, 1));
    }

    /** {@code [batch, in, H, W] -> [batch, 2 * latent, H / f, W / f]} (f = 2^(blocks-1), sizes rounding down). */
    public Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor h = convIn.forward(x);
            for (DownEncoderBlock2D block : downBlocks) {
                h = block.forward(h);
            }
            h = midBlock.forward(h);
            return scope.keep(convOut.forward(convNormOut.forwardSilu(h)));
        }
    }
}
