package org.euterpe.nn.vae;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.PartProgress;
import org.euterpe.nn.Weights;
import org.euterpe.nn.Trace;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
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
    private final int[] blockOut;
    private final int layersPerBlock;
    private final int outChannels;

    private AutoencoderKL(Encoder encoder, Conv2d quantConv, Conv2d postQuantConv, Decoder decoder, int inChannels,
            int latentChannels, int scaleFactor, OptionalDouble scalingFactor, int[] blockOut, int layersPerBlock, int outChannels) {
        this.encoder = encoder;
        this.quantConv = quantConv;
        this.postQuantConv = postQuantConv;
        this.decoder = decoder;
        this.inChannels = inChannels;
        this.latentChannels = latentChannels;
        this.scaleFactor = scaleFactor;
        this.scalingFactor = scalingFactor;
        this.blockOut = blockOut;
        this.layersPerBlock = layersPerBlock;
        this.outChannels = outChannels;
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
                inChannels, latent, 1 << (n - 1), scaling, blockOut.clone(), layers, outChannels);
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

    /** block_out_channels (the decoder runs them reversed), for estimating what a decode costs. */
    public int[] blockOutChannels() {
        return blockOut.clone();
    }

    /** Resnets per encoder block; decoder blocks have one more. */
    public int layersPerBlock() {
        return layersPerBlock;
    }

    /** Channels of the decoded sample (1 for a mel spectrogram). */
    public int outChannels() {
        return outChannels;
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
     * How a long latent is decoded in overlapping tiles along its time axis (dim 2), in latent
     * frames. Neighbouring tiles overlap by {@code 2 * margin + blend} frames: each tile's outer
     * {@code margin} frames of the overlap are dropped (their outputs see the tile's zero padding),
     * and over the middle {@code blend} frames the two tiles' outputs are cross-faded linearly.
     *
     * @param tileFrames   the longest tile; latents up to this long are decoded in one piece
     * @param marginFrames dropped at each inner tile edge; at least the decoder's convolutional
     *                     receptive field (16.5 latent frames for three blocks of 2-3 resnets)
     *                     keeps the zero padding out of the result entirely
     */
    public record Tiling(int tileFrames, int marginFrames, int blendFrames) {
        public Tiling {
            if (marginFrames < 0 || blendFrames < 1 || tileFrames < 3 * (2 * marginFrames + blendFrames)) {
                throw new IllegalArgumentException("VAE tiling needs margin >= 0, blend >= 1 and tile >= 3 x (2 x"
                        + " margin + blend), got tile " + tileFrames + ", margin " + marginFrames + ", blend "
                        + blendFrames);
            }
        }

        public int overlapFrames() {
            return 2 * marginFrames + blendFrames;
        }

        /** The number of tiles for a latent of {@code frames} time frames (1: not tiled). */
        public int tiles(int frames) {
            if (frames <= tileFrames) {
                return 1;
            }
            int o = overlapFrames();
            return (frames - o + tileFrames - o - 1) / (tileFrames - o);
        }

        /** Where tile {@code i} of a latent of {@code frames} starts, in latent frames. */
        public int tileStart(int frames, int i) {
            return i * (tileLength(frames) - overlapFrames());
        }

        /** Where tile {@code i} ends (exclusive): the last tile ends at the latent's end. */
        public int tileEnd(int frames, int i) {
            return i == tiles(frames) - 1 ? frames : tileStart(frames, i) + tileLength(frames);
        }

        /**
         * The weight of each output row of tile {@code i} ({@code scale} rows per latent frame):
         * 0 in the dropped margins, a linear ramp over the blend, 1 elsewhere. A tile's falling
         * ramp and the next tile's rising ramp cover the same rows, and the weights of every row
         * sum to 1 over the tiles.
         */
        public float[] rowWeights(int frames, int i, int scale) {
            int n = tiles(frames);
            int start = tileStart(frames, i);
            int end = tileEnd(frames, i);
            int ramp = blendFrames * scale;
            int riseAt = (start + marginFrames) * scale;
            int fallAt = (end - marginFrames - blendFrames) * scale;
            float[] w = new float[(end - start) * scale];
            for (int r = 0; r < w.length; r++) {
                int g = start * scale + r;
                float x = 1f;
                if (i > 0) {
                    x = g < riseAt ? 0f : g < riseAt + ramp ? (g - riseAt + 0.5f) / ramp : 1f;
                }
                if (i < n - 1 && g >= fallAt) {
                    x = g < fallAt + ramp ? (fallAt + ramp - g - 0.5f) / ramp : 0f;
                }
                w[r] = x;
            }
            return w;
        }

        /** The length of every tile but the last (which ends at the latent's end), for {@code frames}. */
        public int tileLength(int frames) {
            int n = tiles(frames);
            if (n == 1) {
                return frames;
            }
            int o = overlapFrames();
            return (frames - o + n - 1) / n + o;
        }
    }

    /**
     * As {@link #decode(Tensor)}, in time tiles when the latent is longer than
     * {@code tiling.tileFrames()}, so the activations are those of one tile, not of the whole clip.
     *
     * <p>An approximation, unlike the vocoder's chunks: the mid block's attention and every group
     * norm see one tile, not the whole latent. The convolutions are exact when the margin covers
     * their receptive field; what is left is the attention's and the norms' statistics over a
     * tile instead of the clip, cross-faded over the blend frames so no seam shows. Tiles are
     * evenly sized (every tile as long as the longest needs), so no tile is a short remainder
     * with noisier statistics.
     *
     * @param z {@code [batch, latent, frames, w]}, already divided by the scaling factor
     * @return {@code [batch, out, frames * f, w * f]}
     */
    public Tensor decodeTiled(Tensor z, Tiling tiling, PartProgress progress) {
        checkInput(z, latentChannels, "latent");
        int frames = z.dim(2);
        int n = tiling.tiles(frames);
        if (n == 1) {
            return decode(z);
        }
        int f = scaleFactor;
        int batch = z.dim(0);
        float[] out = null;
        int channels = 0;
        int width = 0;
        int rows = frames * f;
        for (int i = 0; i < n; i++) {
            int start = tiling.tileStart(frames, i);
            int end = tiling.tileEnd(frames, i);
            float[] tile;
            try (Scope scope = Scope.open()) {
                Tensor t = decode(z.slice(2, start, end));
                channels = t.dim(1);
                width = t.dim(3);
                tile = t.toFloatArray();
            }
            if (out == null) {
                out = new float[Math.toIntExact((long) batch * channels * rows * width)];
            }
            int tileRows = (end - start) * f;
            float[] weights = tiling.rowWeights(frames, i, f);
            for (int r = 0; r < tileRows; r++) {
                int g = start * f + r;
                float w = weights[r];
                if (w == 0f) {
                    continue;
                }
                for (int bc = 0; bc < batch * channels; bc++) {
                    int src = (bc * tileRows + r) * width;
                    int dst = Math.toIntExact(((long) bc * rows + g) * width);
                    for (int x = 0; x < width; x++) {
                        out[dst + x] += w * tile[src + x];
                    }
                }
            }
            progress.partDone(i + 1, n);
        }
        return z.backend().fromArray(out, Shape.of(batch, channels, rows, width));
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
