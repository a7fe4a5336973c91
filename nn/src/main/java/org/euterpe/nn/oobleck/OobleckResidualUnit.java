package org.euterpe.nn.oobleck;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * {@code x + conv2(snake2(conv1(snake1(x))))}: a dilated kernel-7 convolution (same length) then a 1x1
 * one, both weight-normalised.
 */
final class OobleckResidualUnit {
    private final Snake1d snake1;
    private final Conv1d conv1;
    private final Snake1d snake2;
    private final Conv1d conv2;

    private OobleckResidualUnit(Snake1d snake1, Conv1d conv1, Snake1d snake2, Conv1d conv2) {
        this.snake1 = snake1;
        this.conv1 = conv1;
        this.snake2 = snake2;
        this.conv2 = conv2;
    }

    static OobleckResidualUnit load(Weights w, int dim, int dilation) {
        int pad = (7 - 1) * dilation / 2;
        return new OobleckResidualUnit(Snake1d.load(w.child("snake1"), dim),
                WeightNorm.conv1d(w.child("conv1"), dim, dim, 7, 1, pad, dilation, true),
                Snake1d.load(w.child("snake2"), dim),
                WeightNorm.conv1d(w.child("conv2"), dim, dim, 1, 1, 0, 1, true));
    }

    /** {@code [batch, dim, length]}, same shape out. */
    Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor y = conv2.forward(snake2.forward(conv1.forward(snake1.forward(x))));
            // the reference crops the input when the convolutions shortened the signal (never with these pads)
            int crop = (x.dim(2) - y.dim(2)) / 2;
            Tensor residual = crop > 0 ? x.slice(2, crop, x.dim(2) - crop) : x;
            return scope.keep(residual.add(y));
        }
    }
}
