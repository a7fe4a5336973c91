package org.euterpe.nn.vocoder;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * HiFi-GAN's multi-receptive-field residual block ({@code resblocks.N}): for each dilation,
 * {@code x += conv2(leaky(conv1_dilated(leaky(x))))}, both convolutions length-preserving.
 */
final class HifiGanResidualBlock {
    private final Conv1d[] dilated;
    private final Conv1d[] plain;
    private final float slope;

    private HifiGanResidualBlock(Conv1d[] dilated, Conv1d[] plain, float slope) {
        this.dilated = dilated;
        this.plain = plain;
        this.slope = slope;
    }

    static HifiGanResidualBlock load(Weights w, int channels, int kernel, int[] dilations, float slope) {
        Conv1d[] dilated = new Conv1d[dilations.length];
        Conv1d[] plain = new Conv1d[dilations.length];
        for (int i = 0; i < dilations.length; i++) {
            int d = dilations[i];
            dilated[i] = Conv1d.load(w.child("convs1", i), channels, channels, kernel, 1, (kernel - 1) * d / 2, d);
            plain[i] = Conv1d.load(w.child("convs2", i), channels, channels, kernel, 1, (kernel - 1) / 2, 1);
        }
        return new HifiGanResidualBlock(dilated, plain, slope);
    }

    /**
     * {@code [batch, channels, length] -> same}. Each intermediate is closed as soon as it is
     * used (a scope over the whole block held 15 of them): at 10 s of audio the last stages'
     * activations are 20 MB each, and the block's peak is what the activation pool retains.
     */
    Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor input = x;
            for (int i = 0; i < dilated.length; i++) {
                Tensor y;
                try (Tensor a = x.leakyRelu(slope); Tensor h = dilated[i].forward(a)) {
                    y = h.leakyRelu(slope);
                }
                Tensor next;
                try (y; Tensor h = plain[i].forward(y)) {
                    next = h.add(x);
                }
                if (x != input) {
                    x.close();
                }
                x = next;
            }
            return scope.keep(x);
        }
    }
}
