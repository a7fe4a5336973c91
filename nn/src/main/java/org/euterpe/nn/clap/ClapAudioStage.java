package org.euterpe.nn.clap;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Weights;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * {@code layers.S}: {@code depths[S]} Swin blocks at one resolution (alternately plain and shifted windows), then,
 * except in the last stage, a patch merging that halves the resolution and doubles the width.
 */
final class ClapAudioStage {
    private final List<ClapAudioLayer> blocks;
    private final ClapAudioPatchMerging downsample; // null in the last stage
    private final int height;
    private final int width;

    private ClapAudioStage(List<ClapAudioLayer> blocks, ClapAudioPatchMerging downsample, int height, int width) {
        this.blocks = blocks;
        this.downsample = downsample;
        this.height = height;
        this.width = width;
    }

    static ClapAudioStage load(Weights w, ClapAudioConfig c, int stage, int height, int width, boolean last) {
        int dim = ClapAudioConfig.stageWidth(c.patchEmbedsHiddenSize(), stage);
        List<ClapAudioLayer> blocks = new ArrayList<>();
        for (int i = 0; i < c.depths()[stage]; i++) {
            blocks.add(ClapAudioLayer.load(w.child("blocks", i), c, dim, c.numAttentionHeads()[stage], height, width,
                    i % 2 == 1));
        }
        return new ClapAudioStage(List.copyOf(blocks), last ? null : ClapAudioPatchMerging.load(w.child("downsample"),
                dim), height, width);
    }

    /** {@code [batch, height*width, dim] -> [batch, tokens', dim']} (merged unless last). */
    Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor h = x;
            for (ClapAudioLayer block : blocks) {
                h = block.forward(h);
            }
            return scope.keep(downsample == null ? h : downsample.forward(h, height, width));
        }
    }
}
