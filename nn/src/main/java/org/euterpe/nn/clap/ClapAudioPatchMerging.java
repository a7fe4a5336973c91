package org.euterpe.nn.clap;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.LayerNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Tensor;

/**
 * {@code layers.S.downsample}: each 2x2 block of tokens concatenated (in the order (0,0), (1,0), (0,1), (1,1) of
 * (row, column) offsets), layer-normed and projected from {@code 4*dim} to {@code 2*dim}: half the rows and
 * columns, twice the width. Odd sizes are zero-padded first.
 */
final class ClapAudioPatchMerging {
    private final LayerNorm norm;
    private final Linear reduction;

    private ClapAudioPatchMerging(LayerNorm norm, Linear reduction) {
        this.norm = norm;
        this.reduction = reduction;
    }

    static ClapAudioPatchMerging load(Weights w, int dim) {
        return new ClapAudioPatchMerging(LayerNorm.load(w.child("norm"), 4 * dim, ClapAudioConfig.TORCH_NORM_EPS),
                Linear.load(w.child("reduction"), 4 * dim, 2 * dim, false));
    }

    /**
     * @param x {@code [batch, height*width, dim]}
     * @return {@code [batch, ceil(height/2)*ceil(width/2), 2*dim]}
     */
    Tensor forward(Tensor x, int height, int width) {
        int b = x.dim(0);
        int c = x.dim(2);
        Tensor img = x.reshape(b, height, width, c);
        if (height % 2 == 1 || width % 2 == 1) {
            img = img.pad(new int[] {0, 0, 0, width % 2, 0, height % 2}, 0f);
        }
        int h2 = (height + 1) / 2;
        int w2 = (width + 1) / 2;
        // [b, h2, rowOffset, w2, colOffset, c] -> [b, h2, w2, colOffset, rowOffset, c]: channel block
        // colOffset*2 + rowOffset, the reference's concatenation order
        Tensor merged = img.reshape(b, h2, 2, w2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, h2 * w2, 4 * c);
        return reduction.forward(norm.forward(merged));
    }
}
