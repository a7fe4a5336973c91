package org.euterpe.nn.unet;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.nn.layers.GroupNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers Transformer2DModel over continuous input, as the UNet's cross-attention blocks use it:
 *
 * <pre>
 * h = proj_in(norm(x))                 GroupNorm eps 1e-6; proj_in a 1x1 conv, or a linear on tokens
 * h = [B, C, H, W] -> [B, H*W, C]
 * h = transformer_blocks(h, context)
 * out = proj_out(h -> [B, C, H, W]) + x
 * </pre>
 */
public final class Transformer2DModel {
    private static final double NORM_EPS = 1e-6;

    private final GroupNorm norm;
    private final Conv2d projInConv;
    private final Linear projInLinear;
    private final List<BasicTransformerBlock> blocks;
    private final Conv2d projOutConv;
    private final Linear projOutLinear;

    private Transformer2DModel(GroupNorm norm, Conv2d projInConv, Linear projInLinear,
            List<BasicTransformerBlock> blocks, Conv2d projOutConv, Linear projOutLinear) {
        this.norm = norm;
        this.projInConv = projInConv;
        this.projInLinear = projInLinear;
        this.blocks = blocks;
        this.projOutConv = projOutConv;
        this.projOutLinear = projOutLinear;
    }

    /**
     * @param heads   number of attention heads; each has width {@code channels / heads}
     * @param layers  number of BasicTransformerBlocks
     */
    public static Transformer2DModel load(Weights w, int channels, int heads, int layers, int crossAttentionDim,
            int groups, boolean useLinearProjection) {
        if (channels % heads != 0) {
            throw new IllegalArgumentException(w.key("") + ": " + channels + " channels do not split into " + heads
                    + " attention heads");
        }
        int dimHead = channels / heads;
        int inner = heads * dimHead;
        List<BasicTransformerBlock> blocks = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            blocks.add(BasicTransformerBlock.load(w.child("transformer_blocks", i), inner, heads, dimHead,
                    crossAttentionDim));
        }
        GroupNorm norm = GroupNorm.load(w.child("norm"), groups, channels, NORM_EPS);
        if (useLinearProjection) {
            return new Transformer2DModel(norm, null, Linear.load(w.child("proj_in"), channels, inner), blocks,
                    null, Linear.load(w.child("proj_out"), inner, channels));
        }
        return new Transformer2DModel(norm, Conv2d.load(w.child("proj_in"), channels, inner, 1, 1, 0), null, blocks,
                Conv2d.load(w.child("proj_out"), inner, channels, 1, 1, 0), null);
    }

    /**
     * @param x       {@code [batch, channels, h, w]}
     * @param context {@code [batch, contextTokens, crossAttentionDim]}, or null (attn2 then attends
     *                to the block's own hidden states)
     * @return {@code [batch, channels, h, w]}
     */
    public Tensor forward(Tensor x, Tensor context) {
        int b = x.dim(0);
        int height = x.dim(2);
        int width = x.dim(3);
        try (Scope scope = Scope.open()) {
            Tensor h = norm.forward(x);
            if (projInConv != null) {
                h = projInConv.forward(h);
            }
            int inner = h.dim(1);
            h = h.permute(0, 2, 3, 1).reshape(b, height * width, inner);
            if (projInLinear != null) {
                h = projInLinear.forward(h);
            }
            for (BasicTransformerBlock block : blocks) {
                h = block.forward(h, context);
            }
            if (projOutLinear != null) {
                h = projOutLinear.forward(h);
            }
            h = h.reshape(b, height, width, h.dim(2)).permute(0, 3, 1, 2);
            if (projOutConv != null) {
                h = projOutConv.forward(h);
            }
            return scope.keep(h.add(x));
        }
    }
}
