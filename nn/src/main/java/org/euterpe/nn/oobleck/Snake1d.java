package org.euterpe.nn.oobleck;

import org.euterpe.nn.Weights;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code Snake1d} with log-scale parameters: {@code x + 1/(e^β + 1e-9) · sin²(e^α · x)} per
 * channel. The exponentials and the reciprocal are taken once at load (in float32, as the reference
 * computes them each call); the activation itself is the backend's {@code snake} op.
 */
final class Snake1d {
    private final Tensor alpha;
    private final Tensor invBeta;

    private Snake1d(Tensor alpha, Tensor invBeta) {
        this.alpha = alpha;
        this.invBeta = invBeta;
    }

    static Snake1d load(Weights w, int channels) {
        float[] a;
        float[] b;
        try (var scope = org.euterpe.tensor.Scope.open()) {
            a = w.get("alpha", 1, channels, 1).toFloatArray();
            b = w.get("beta", 1, channels, 1).toFloatArray();
        }
        float[] expAlpha = new float[channels];
        float[] invBeta = new float[channels];
        for (int c = 0; c < channels; c++) {
            expAlpha[c] = (float) Math.exp(a[c]);
            invBeta[c] = 1f / ((float) Math.exp(b[c]) + 1e-9f);
        }
        return new Snake1d(w.backend().fromArray(expAlpha, Shape.of(channels)),
                w.backend().fromArray(invBeta, Shape.of(channels)));
    }

    /** {@code [batch, channels, length]}, same shape out. */
    Tensor forward(Tensor x) {
        return x.backend().snake(x, alpha, invBeta);
    }
}
