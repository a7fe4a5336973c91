package org.euterpe.nn.oobleck;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.PartProgress;
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

    /**
     * Latent frames on either side of a frame that the decoder's output over that frame depends on,
     * rounded up: its first convolution (kernel 7), then per block (strides in reverse) the transposed
     * convolution (kernel 2s: 2 input samples) and three residual units (kernel 7, dilations 1, 3, 9: 39
     * samples at the block's output rate), and the last convolution (kernel 7). About 11 for Stable Audio
     * Open's strides [8, 8, 4, 4, 2], 21 for the tiny test model's [4, 2].
     */
    public int receptiveFieldFrames() {
        int[] ratios = config.downsamplingRatios();
        double frames = 3;
        long rate = 1; // output samples per latent frame so far
        for (int i = ratios.length - 1; i >= 0; i--) {
            frames += 2.0 / rate;
            rate *= ratios[i];
            frames += 39.0 / rate;
        }
        frames += 3.0 / rate;
        return (int) Math.ceil(frames);
    }

    /**
     * {@link #decode} in tiles of at most {@code tileFrames} latent frames (split evenly), each decoded with
     * {@code marginFrames} of its neighbours' latents on either side and cut back to its own samples: the decoder is purely
     * convolutional, so with margins of at least {@link #receptiveFieldFrames} the result equals the
     * one-piece decode up to summation order,
     * while the activations (128 channels at 44.1 kHz: 1 GiB per tensor for a whole 47.55 s clip) are
     * those of one tile. A clip of at most {@code tileFrames + marginFrames} frames is decoded in one piece.
     *
     * @param latents {@code [batch, decoder_input_channels, frames]}
     * @return {@code [batch, audio_channels, frames * hop_length]}
     */
    public Tensor decodeTiled(Tensor latents, int tileFrames, int marginFrames) {
        return decodeTiled(latents, tileFrames, marginFrames, PartProgress.NONE);
    }

    /**
     * {@link #decodeTiled(Tensor, int, int)}, telling {@code progress} after each tile (1-based, of the tile
     * count); a clip decoded in one piece tells nothing, as {@code AutoencoderKL.decodeTiled} does.
     */
    public Tensor decodeTiled(Tensor latents, int tileFrames, int marginFrames, PartProgress progress) {
        checkChannels(latents, config.decoderInputChannels(), "latents");
        if (tileFrames < 1 || marginFrames < 0) {
            throw new IllegalArgumentException("tile " + tileFrames + " and margin " + marginFrames + " frames");
        }
        int frames = latents.dim(2);
        if (frames <= tileFrames + marginFrames) {
            return decode(latents, Trace.NONE);
        }
        int hop = config.hopLength();
        java.util.List<Tensor> parts = new java.util.ArrayList<>();
        try (var scope = org.euterpe.tensor.Scope.open()) {
            // as SpeechT5HifiGan.forwardChunked splits its chunks: evenly, so no tile is needlessly short
            int tiles = (frames + tileFrames - 1) / tileFrames;
            int core = (frames + tiles - 1) / tiles;
            int n = (frames + core - 1) / core; // the loop's count of tiles
            for (int start = 0, done = 1; start < frames; start += core, done++) {
                int end = Math.min(frames, start + core);
                int lo = Math.max(0, start - marginFrames);
                int hi = Math.min(frames, end + marginFrames);
                try (var tile = org.euterpe.tensor.Scope.open()) {
                    Tensor audio = decoder.forward(latents.slice(2, lo, hi), Trace.NONE);
                    parts.add(tile.keep(audio.slice(2, (start - lo) * hop, (end - lo) * hop)));
                }
                progress.partDone(done, n);
            }
            return scope.keep(latents.backend().concat(parts, 2));
        }
    }

    /**
     * Latent frames on either side of a frame that the encoder's output for that frame depends on, rounded up:
     * its first convolution (kernel 7: 3 samples), then per block at that block's input rate the three
     * residual units (kernel 7, dilations 1, 3, 9: 39 samples) and the strided convolution (kernel 2s, padding
     * ceil(s / 2): s samples), and the last convolution (kernel 3: 1 frame). About 8 for Stable Audio Open's
     * strides [2, 4, 4, 8, 8], 18 for the tiny test model's [2, 4].
     */
    public int encoderReceptiveFieldFrames() {
        int[] ratios = config.downsamplingRatios();
        double samples = 3;
        long rate = 1; // input samples per sample at this block's input
        for (int s : ratios) {
            samples += (39.0 + s) * rate;
            rate *= s;
        }
        return (int) Math.ceil(samples / rate) + 1;
    }

    /**
     * {@link #encode} in tiles of at most {@code tileFrames} latent frames (split evenly, as {@link #decodeTiled}
     * splits), each encoded from its audio with {@code marginFrames} frames' worth of its neighbours' samples on
     * either side and cut back to its own frames. The encoder is purely convolutional and every tile starts on a
     * multiple of the hop, so its strided convolutions sample the same grid as the whole clip's: with margins of
     * at least {@link #encoderReceptiveFieldFrames} the result equals the one-piece encode up to summation
     * order, while the activations (128 channels at 44.1 kHz: 1 GiB per tensor for a whole 47.55 s clip) are
     * those of one tile. Audio of at most {@code tileFrames + marginFrames} frames, or not a whole number of
     * frames, is encoded in one piece.
     *
     * @param audio {@code [batch, audio_channels, samples]}
     */
    public OobleckDiagonalGaussianDistribution encodeTiled(Tensor audio, int tileFrames, int marginFrames) {
        checkChannels(audio, config.audioChannels(), "audio");
        if (tileFrames < 1 || marginFrames < 0) {
            throw new IllegalArgumentException("tile " + tileFrames + " and margin " + marginFrames + " frames");
        }
        int hop = config.hopLength();
        int frames = audio.dim(2) / hop;
        if (audio.dim(2) % hop != 0 || frames <= tileFrames + marginFrames) {
            return encode(audio, Trace.NONE);
        }
        java.util.List<Tensor> parts = new java.util.ArrayList<>();
        try (var scope = org.euterpe.tensor.Scope.open()) {
            int tiles = (frames + tileFrames - 1) / tileFrames;
            int core = (frames + tiles - 1) / tiles;
            for (int start = 0; start < frames; start += core) {
                int end = Math.min(frames, start + core);
                int lo = Math.max(0, start - marginFrames);
                int hi = Math.min(frames, end + marginFrames);
                try (var tile = org.euterpe.tensor.Scope.open()) {
                    Tensor h = encoder.forward(audio.slice(2, lo * hop, hi * hop), Trace.NONE);
                    parts.add(tile.keep(h.slice(2, start - lo, end - lo)));
                }
            }
            OobleckDiagonalGaussianDistribution d = OobleckDiagonalGaussianDistribution.of(
                    audio.backend().concat(parts, 2));
            return new OobleckDiagonalGaussianDistribution(scope.keep(d.mean()), scope.keep(d.scale()),
                    scope.keep(d.std()));
        }
    }

    private static void checkChannels(Tensor x, int channels, String what) {
        if (x.rank() != 3 || x.dim(1) != channels) {
            throw new IllegalArgumentException(what + " " + x.shape() + " must be [batch, " + channels + ", length]");
        }
    }
}
