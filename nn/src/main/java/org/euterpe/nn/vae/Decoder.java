package org.euterpe.nn.vae;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.Trace;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.nn.layers.GroupNorm;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers vae.Decoder (group norm):
 * {@code conv_out(silu(conv_norm_out(up_blocks(mid_block(conv_in(z))))))}.
 */
public final class Decoder {
    private final Conv2d convIn;
    private final UNetMidBlock2D midBlock;
    private final List<UpDecoderBlock2D> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    private Decoder(Conv2d convIn, UNetMidBlock2D midBlock, List<UpDecoderBlock2D> upBlocks, GroupNorm convNormOut,
            Conv2d convOut) {
        this.convIn = convIn;
        this.midBlock = midBlock;
        this.upBlocks = upBlocks;
        this.convNormOut = convNormOut;
        this.convOut = convOut;
    }

    /** Up blocks run over {@code blockOut} reversed, each with {@code layersPerBlock + 1} resnets. */
    public static Decoder load(Weights w, int latentChannels, int outChannels, int[] blockOut, int layersPerBlock,
            int groups) {
        int n = blockOut.length;
        int deepest = blockOut[n - 1];
        List<UpDecoderBlock2D> up = new ArrayList<>();
        int out = deepest;
        for (int i = 0; i < n; i++) {
            int in = out;
            out = blockOut[n - 1 - i];
            up.add(UpDecoderBlock2D.load(w.child("up_blocks", i), in, out, layersPerBlock + 1, groups, Encoder.EPS,
                    i < n - 1));
        }
        return new Decoder(
                Conv2d.load(w.child("conv_in"), latentChannels, deepest, 3, 1, 1),
                UNetMidBlock2D.load(w.child("mid_block"), deepest, groups, Encoder.EPS),
                up,
                GroupNorm.load(w.child("conv_norm_out"), groups, blockOut[0], Encoder.EPS),
                Conv2d.load(w.child("conv_out"), blockOut[0], outChannels, 3, 1, 1));
    }

    /**
     * @param z     {@code [batch, latent, h, w]}
     * @param trace receives {@code conv_in, mid_block, up_blocks.k, conv_norm_out, conv_out}
     * @return {@code [batch, out, h * f, w * f]}
     */
    public Tensor forward(Tensor z, Trace trace) {
        try (Scope scope = Scope.open()) {
            Tensor h = convIn.forward(z);
            trace.record("conv_in", h);
            Tensor mid = midBlock.forward(h);
            h.close();
            h = mid;
            trace.record("mid_block", h);
            for (int i = 0; i < upBlocks.size(); i++) {
                Tensor next = upBlocks.get(i).forward(h);
                h.close(); // conv_in's, the mid block's or the previous up block's output
                h = next;
                trace.record("up_blocks." + i, h);
            }
            Tensor out;
            try (Tensor last = h; Tensor a = convNormOut.forwardSilu(last, trace, "conv_norm_out")) {
                out = convOut.forward(a);
            }
            trace.record("conv_out", out);
            return scope.keep(out);
        }
    }
}
