package org.euterpe.nn.oobleck;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.ConvTranspose1d;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/** Snake, a transposed convolution up by {@code stride}, then three residual units (dilations 1, 3, 9). */
final class OobleckDecoderBlock {
    private final Snake1d snake1;
    private final ConvTranspose1d convT1;
    private final OobleckResidualUnit[] resUnits;

    private OobleckDecoderBlock(Snake1d snake1, ConvTranspose1d convT1, OobleckResidualUnit[] resUnits) {
        this.snake1 = snake1;
        this.convT1 = convT1;
        this.resUnits = resUnits;
    }

    static OobleckDecoderBlock load(Weights w, int inputDim, int outputDim, int stride) {
        return new OobleckDecoderBlock(Snake1d.load(w.child("snake1"), inputDim),
                WeightNorm.convTranspose1d(w.child("conv_t1"), inputDim, outputDim, 2 * stride, stride, (stride + 1) / 2),
                new OobleckResidualUnit[] {
                    OobleckResidualUnit.load(w.child("res_unit1"), outputDim, 1),
                    OobleckResidualUnit.load(w.child("res_unit2"), outputDim, 3),
                    OobleckResidualUnit.load(w.child("res_unit3"), outputDim, 9)});
    }

    /** {@code [batch, in, length]} to {@code [batch, out, length * stride]} (even strides). */
    Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor h = convT1.forward(snake1.forward(x));
            for (OobleckResidualUnit u : resUnits) {
                h = u.forward(h);
            }
            return scope.keep(h);
        }
    }
}
