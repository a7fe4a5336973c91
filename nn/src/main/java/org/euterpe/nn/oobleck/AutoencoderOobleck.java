package org.euterpe.nn.oobleck;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code AutoencoderOobleck}, Stable Audio's waveform VAE: strided convolutions with Snake
 * activations down to latents at {@code sampling_rate / hop_length} frames per second, and transposed ones
 * back up. Weight norm is folded into plain weights at load.
 */
public final class AutoencoderOobleck {
    private final OobleckConfig config;
    private final OobleckEncoder encoder;
    private final OobleckDecoder decoder;

    private AutoencoderOobleck(OobleckConfig config, OobleckEncoder encoder, OobleckDecoder decoder) {
        this.config = config;
        this.encoder = encoder;
        this.decoder = decoder;
    }

    /** Loads {@code vae/} of a pipeline folder; keep {@code files} open while the model is used. */
    public static AutoencoderOobleck load(ComponentFiles files, org.euterpe.tensor.Backend backend) {
        return load(files.weights(backend), files.config());
    }

    public static AutoencoderOobleck load(Weights w, Config c) {
        OobleckConfig config = OobleckConfig.read(c);
        AutoencoderOobleck vae = new AutoencoderOobleck(config, OobleckEncoder.load(w.child("encoder"), config),
                OobleckDecoder.load(w.child("decoder"), config));
        w.checkAllUsed();
        return vae;
    }

    public OobleckConfig config() {
        return config;
    }

    /**
     * {@code vae.encode(audio).latent_dist}; {@code trace} receives {@code encoder.conv1}, {@code encoder.block.N},
     * {@code encoder.snake1}, {@code encoder.conv2}.
     *
     * @param audio {@code [batch, audio_channels, samples]}
     */
    public OobleckDiagonalGaussianDistribution encode(Tensor audio, Trace trace) {
        checkChannels(audio, config.audioChannels(), "audio");
        try (var scope = org.euterpe.tensor.Scope.open()) {
            OobleckDiagonalGaussianDistribution d = OobleckDiagonalGaussianDistribution.of(
                    encoder.forward(audio, trace.prefixed("encoder.")));
            return new OobleckDiagonalGaussianDistribution(scope.keep(d.mean()), scope.keep(d.scale()),
                    scope.keep(d.std()));
        }
    }

    /**
     * {@code vae.decode(latents).sample}; {@code trace} receives {@code decoder.conv1}, {@code decoder.block.N},
     * {@code decoder.snake1}, {@code decoder.conv2}.
     *
     * @param latents {@code [batch, decoder_input_channels, frames]}
     * @return {@code [batch, audio_channels, frames * hop_length]}
     */
    public Tensor decode(Tensor latents, Trace trace) {
        checkChannels(latents, config.decoderInputChannels(), "latents");
        return decoder.forward(latents, trace.prefixed("decoder."));
    }

    private static void checkChannels(Tensor x, int channels, String what) {
        if (x.rank() != 3 || x.dim(1) != channels) {
            throw new IllegalArgumentException(what + " " + x.shape() + " must be [batch, " + channels + ", length]");
        }
    }
}
