package org.euterpe.nn.oobleck;

import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * The encoder's posterior: its output split along channels into {@code mean} and {@code scale}, with
 * {@code std = softplus(scale) + 1e-4}; a sample is {@code mean + std · noise}.
 *
 * @param mean  {@code [batch, latent_channels, frames]}
 * @param scale the encoder's second half, before softplus; same shape
 * @param std   same shape
 */
public record OobleckDiagonalGaussianDistribution(Tensor mean, Tensor scale, Tensor std) {

    /** From the encoder's output {@code [batch, 2 · latent_channels, frames]}. */
    static OobleckDiagonalGaussianDistribution of(Tensor parameters) {
        int half = parameters.dim(1) / 2;
        try (Scope scope = Scope.open()) {
            Tensor mean = parameters.slice(1, 0, half);
            Tensor scale = parameters.slice(1, half, 2 * half);
            Tensor std = softplus(scale).add(1e-4f);
            return new OobleckDiagonalGaussianDistribution(scope.keep(mean), scope.keep(scale), scope.keep(std));
        }
    }

    /**
     * torch's {@code softplus} (beta 1, threshold 20): {@code x} above 20, else {@code log1p(exp(x))}, here as
     * {@code relu(x) + log1p(exp(-|x|))}, which is the same function without overflow.
     */
    static Tensor softplus(Tensor x) {
        float[] v = x.toFloatArray();
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            float s = v[i];
            out[i] = s > 20f ? s : (float) Math.log1p(Math.exp(s));
        }
        return x.backend().fromArray(out, x.shape());
    }

    /** {@code mean + std · noise}; {@code noise} has the mean's shape. */
    public Tensor sample(Tensor noise) {
        try (Scope scope = Scope.open()) {
            return scope.keep(mean.add(std.mul(noise)));
        }
    }

    /** The mode (the mean). */
    public Tensor mode() {
        return mean;
    }
}
