package org.euterpe.nn.oobleck;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/** Three residual units (dilations 1, 3, 9), Snake, then a strided convolution down by {@code stride}. */
final class OobleckEncoderBlock {
    private final OobleckResidualUnit[] resUnits;
    private final Snake1d snake1;
    private final Conv1d conv1;

    private OobleckEncoderBlock(OobleckResidualUnit[] resUnits, Snake1d snake1, Conv1d conv1) {
        this.resUnits = resUnits;
        this.snake1 = snake1;
        this.conv1 = conv1;
    }

    static OobleckEncoderBlock load(Weights w, int inputDim, int outputDim, int stride) {
        return new OobleckEncoderBlock(new OobleckResidualUnit[] {
            OobleckResidualUnit.load(w.child("res_unit1"), inputDim, 1),
            OobleckResidualUnit.load(w.child("res_unit2"), inputDim, 3),
            OobleckResidualUnit.load(w.child("res_unit3"), inputDim, 9)},
                Snake1d.load(w.child("snake1"), inputDim),
                WeightNorm.conv1d(w.child("conv1"), inputDim, outputDim, 2 * stride, stride, (stride + 1) / 2, 1, true));
    }

    /** {@code [batch, in, length]} to {@code [batch, out, length / stride]}. */
    Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor h = x;
            for (OobleckResidualUnit u : resUnits) {
                h = u.forward(h);
            }
            return scope.keep(conv1.forward(snake1.forward(h)));
        }
    }
}
