package org.euterpe.nn.vae;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.nn.Trace;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers AutoencoderKL (DownEncoderBlock2D / UpDecoderBlock2D):
 * {@code decode(z) = decoder(post_quant_conv(z))} and
 * {@code encode(x) = moments(quant_conv(encoder(x)))}.
 *
 * <p>Scaling is the caller's: diffusion latents are divided by {@link #scalingFactor()} before
 * {@link #decode}, and encoded latents multiplied by it before diffusion.
 */
public final class AutoencoderKL {
    private final Encoder encoder;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;
    private final Decoder decoder;
    private final int inChannels;
    private final int latentChannels;
    private final int scaleFactor;
    private final OptionalDouble scalingFactor;

    private AutoencoderKL(Encoder encoder, Conv2d quantConv, Conv2d postQuantConv, Decoder decoder, int inChannels,
            int latentChannels, int scaleFactor, OptionalDouble scalingFactor) {
        this.encoder = encoder;
        this.quantConv = quantConv;
        this.postQuantConv = postQuantConv;
        this.decoder = decoder;
        this.inChannels = inChannels;
        this.latentChannels = latentChannels;
        this.scaleFactor = scaleFactor;
        this.scalingFactor = scalingFactor;
    }

    /** Opens {@code pipelineDir/vae}. The returned files must stay open while the model is used. */
    public static ComponentFiles open(Path pipelineDir) throws IOException {
        return ComponentFiles.open(pipelineDir, "vae");
    }

    public static AutoencoderKL load(ComponentFiles files, Backend backend) {
        return load(files.config(), files.weights(backend));
    }

    /**
     * Builds the model; fails with {@link ModelLoadException} naming an unsupported config option
     * or a missing, extra or misshapen weight.
     */
    public static AutoencoderKL load(Config c, Weights w) {
        try {
            AutoencoderKL m = build(c, w);
            w.checkAllUsed();
            return m;
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(c.context() + ": " + e.getMessage(), e);
        }
    }

    private static AutoencoderKL build(Config c, Weights w) {
        c.require("act_fn", "silu", "swish", null);
        c.raw("sample_size");   // only sizes diffusers' optional tiling
        c.raw("force_upcast");  // activations are float32 already
        int[] blockOut = c.getIntArray("block_out_channels");
        int n = blockOut.length;
        requireAll(c, "down_block_types", "DownEncoderBlock2D", n);
        requireAll(c, "up_block_types", "UpDecoderBlock2D", n);
        int inChannels = c.optInt("in_channels", 3);
        int outChannels = c.optInt("out_channels", 3);
        int latent = c.optInt("latent_channels", 4);
        int layers = c.optInt("layers_per_block", 1);
        int groups = c.optInt("norm_num_groups", 32);
        // Some converted configs write null (unknown); then the caller must supply the factor.
        OptionalDouble scaling = c.has("scaling_factor") ? OptionalDouble.of(c.getDouble("scaling_factor"))
                : OptionalDouble.empty();
        AutoencoderKL m = new AutoencoderKL(
                Encoder.load(w.child("encoder"), inChannels, latent, blockOut, layers, groups),
                Conv2d.load(w.child("quant_conv"), 2 * latent, 2 * latent, 1, 1, 0),
                Conv2d.load(w.child("post_quant_conv"), latent, latent, 1, 1, 0),
                Decoder.load(w.child("decoder"), latent, outChannels, blockOut, layers, groups),
                inChannels, latent, 1 << (n - 1), scaling);
        c.finish();
        return m;
    }

    private static void requireAll(Config c, String key, String type, int count) {
        List<String> types = c.getStringList(key);
        if (types.size() != count || types.stream().anyMatch(t -> !t.equals(type))) {
            throw new ModelLoadException(c.context() + ": unsupported " + key + " = " + types + " (supported: "
                    + count + " x " + type + ", one per block_out_channels entry)");
        }
    }

    /** The config's {@code scaling_factor}; empty when the config gives none (null). */
    public OptionalDouble scalingFactor() {
        return scalingFactor;
    }

    public int latentChannels() {
        return latentChannels;
    }

    /** Spatial downsampling between sample and latent, {@code 2^(len(block_out_channels)-1)}. */
    public int vaeScaleFactor() {
        return scaleFactor;
    }

    /** {@code [batch, latent, h, w] -> [batch, out, h * f, w * f]}; {@code z} is already divided by the scaling factor. */
    public Tensor decode(Tensor z) {
        return decode(z, Trace.NONE);
    }

    /**
     * @param trace receives {@code post_quant_conv} and the decoder's records prefixed {@code decoder.}
     */
    public Tensor decode(Tensor z, Trace trace) {
        checkInput(z, latentChannels, "latent");
        try (Scope scope = Scope.open()) {
            Tensor h = postQuantConv.forward(z);
            trace.record("post_quant_conv", h);
            return scope.keep(decoder.forward(h, trace.prefixed("decoder.")));
        }
    }

    /**
     * The latent distribution of {@code x}.
     *
     * @param x {@code [batch, in, H, W]}
     * @return mean and log-variance, each {@code [batch, latent, floor(H / f), floor(W / f)]}
     */
    public DiagonalGaussianDistribution encode(Tensor x) {
        checkInput(x, inChannels, "sample");
        try (Scope scope = Scope.open()) {
            Tensor moments = quantConv.forward(encoder.forward(x));
            Tensor mean = moments.slice(1, 0, latentChannels);
            Tensor logvar = moments.slice(1, latentChannels, 2 * latentChannels);
            // keep() of a view keeps the storage it views (moments, for batch 1)
            return new DiagonalGaussianDistribution(scope.keep(mean), scope.keep(logvar));
        }
    }

    private static void checkInput(Tensor t, int channels, String what) {
        if (t.rank() != 4 || t.dim(1) != channels) {
            throw new IllegalArgumentException("VAE " + what + " must be [batch, " + channels + ", h, w], got "
                    + t.shape());
        }
    }
}
