package org.euterpe.nn.oobleck;

import java.util.Arrays;

import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;

/** {@code AutoencoderOobleck}'s config, with diffusers' defaults (Stable Audio Open 1.0's values). */
public record OobleckConfig(int encoderHiddenSize, int[] downsamplingRatios, int[] channelMultiples,
        int decoderChannels, int decoderInputChannels, int audioChannels, int samplingRate) {

    public OobleckConfig {
        if (downsamplingRatios.length == 0 || downsamplingRatios.length != channelMultiples.length) {
            throw new ModelLoadException("downsampling_ratios " + Arrays.toString(downsamplingRatios)
                    + " and channel_multiples " + Arrays.toString(channelMultiples) + " must be non-empty and of one length");
        }
        for (int r : downsamplingRatios) {
            if (r < 1) {
                throw new ModelLoadException("downsampling_ratios must be positive: " + Arrays.toString(downsamplingRatios));
            }
        }
        if (encoderHiddenSize % 2 != 0) {
            throw new ModelLoadException("encoder_hidden_size " + encoderHiddenSize
                    + " must be even (its halves are the posterior's mean and scale)");
        }
    }

    /** Audio samples per latent frame: the product of the strides. */
    public int hopLength() {
        int h = 1;
        for (int r : downsamplingRatios) {
            h = Math.multiplyExact(h, r);
        }
        return h;
    }

    /** Latent channels the encoder produces (half its output: the mean). */
    public int latentChannels() {
        return encoderHiddenSize / 2;
    }

    public static OobleckConfig read(Config c) {
        OobleckConfig o = new OobleckConfig(
                c.optInt("encoder_hidden_size", 128),
                c.has("downsampling_ratios") ? c.getIntArray("downsampling_ratios") : new int[] {2, 4, 4, 8, 8},
                c.has("channel_multiples") ? c.getIntArray("channel_multiples") : new int[] {1, 2, 4, 8, 16},
                c.optInt("decoder_channels", 128),
                c.optInt("decoder_input_channels", 64),
                c.optInt("audio_channels", 2),
                c.optInt("sampling_rate", 44100));
        c.finish();
        return o;
    }
}
