package org.euterpe.nn.vae;

import org.euterpe.tensor.Tensor;

/**
 * The VAE's latent posterior (diffusers DiagonalGaussianDistribution): a per-element normal with
 * {@code mean} and {@code std = exp(logvar / 2)}, logvar clamped to [-30, 20].
 *
 * @param mean   {@code [batch, latent, h, w]}
 * @param logvar {@code [batch, latent, h, w]}, unclamped as the encoder produced it
 */
public record DiagonalGaussianDistribution(Tensor mean, Tensor logvar) {
    private static final float LOGVAR_MIN = -30f;
    private static final float LOGVAR_MAX = 20f;

    /** The distribution's mode, which is its mean. */
    public Tensor mode() {
        return mean;
    }

    /** {@code exp(0.5 * clamp(logvar, -30, 20))}, computed on the host (a small latent). */
    public Tensor std() {
        float[] lv = logvar.toFloatArray();
        float[] std = new float[lv.length];
        for (int i = 0; i < lv.length; i++) {
            float clamped = Math.min(Math.max(lv[i], LOGVAR_MIN), LOGVAR_MAX);
            std[i] = (float) Math.exp(0.5f * clamped);
        }
        return mean.backend().fromArray(std, logvar.shape());
    }

    /**
     * {@code mean + std * noise}: a draw given standard normal {@code noise} of the latent's shape
     * (the caller chooses the generator, so runs are reproducible).
     */
    public Tensor sample(Tensor noise) {
        if (!noise.shape().equals(mean.shape())) {
            throw new IllegalArgumentException("noise " + noise.shape() + " does not match the latent " + mean.shape());
        }
        return mean.add(std().mul(noise));
    }

    /** A draw with noise from the backend's seeded generator. */
    public Tensor sample(long seed) {
        return sample(mean.backend().randn(mean.shape(), seed));
    }
}
