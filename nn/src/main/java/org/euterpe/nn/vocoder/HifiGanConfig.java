package org.euterpe.nn.vocoder;

import java.util.Arrays;
import java.util.List;

import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;

/**
 * Hyper-parameters of {@code SpeechT5HifiGan}, with transformers' {@code SpeechT5HifiGanConfig}
 * defaults for absent keys.
 *
 * @param resblockDilations one dilation list per residual block kernel size
 */
public record HifiGanConfig(int modelInDim, int samplingRate, int upsampleInitialChannel, int[] upsampleRates,
        int[] upsampleKernelSizes, int[] resblockKernelSizes, int[][] resblockDilations, float leakyReluSlope,
        boolean normalizeBefore) {

    public HifiGanConfig {
        if (upsampleRates.length != upsampleKernelSizes.length) {
            throw new ModelLoadException("upsample_rates " + Arrays.toString(upsampleRates)
                    + " and upsample_kernel_sizes " + Arrays.toString(upsampleKernelSizes) + " differ in length");
        }
        if (resblockKernelSizes.length != resblockDilations.length || resblockKernelSizes.length == 0) {
            throw new ModelLoadException("resblock_kernel_sizes " + Arrays.toString(resblockKernelSizes)
                    + " and resblock_dilation_sizes " + Arrays.deepToString(resblockDilations)
                    + " must be non-empty and of the same length");
        }
        for (int i = 0; i < upsampleRates.length; i++) {
            if (upsampleRates[i] < 1 || upsampleKernelSizes[i] < upsampleRates[i]) {
                throw new ModelLoadException("upsampler " + i + ": kernel size " + upsampleKernelSizes[i]
                        + " must be at least its rate " + upsampleRates[i] + " (>= 1)");
            }
        }
        if (upsampleInitialChannel % (1 << upsampleRates.length) != 0) {
            throw new ModelLoadException("upsample_initial_channel " + upsampleInitialChannel
                    + " cannot be halved " + upsampleRates.length + " times");
        }
        for (int i = 0; i < resblockKernelSizes.length; i++) {
            for (int d : resblockDilations[i]) {
                // the block's convolutions keep the length only when the dilated span is even
                if (d < 1 || (resblockKernelSizes[i] - 1) * d % 2 != 0) {
                    throw new ModelLoadException("residual block kernel " + resblockKernelSizes[i] + " with dilation "
                            + d + " does not preserve the length");
                }
            }
        }
    }

    /** Output samples per input frame: the product of the upsample rates. */
    public int hopLength() {
        int p = 1;
        for (int r : upsampleRates) {
            p *= r;
        }
        return p;
    }

    /** Channels after upsampler {@code i}: the initial channels halved {@code i + 1} times. */
    public int channelsAfter(int i) {
        return upsampleInitialChannel >> (i + 1);
    }

    public static HifiGanConfig read(Config c) {
        c.require("model_type", null, "hifigan");
        HifiGanConfig h = new HifiGanConfig(
                c.optInt("model_in_dim", 80),
                c.optInt("sampling_rate", 16000),
                c.optInt("upsample_initial_channel", 512),
                c.has("upsample_rates") ? c.getIntArray("upsample_rates") : new int[] {4, 4, 4, 4},
                c.has("upsample_kernel_sizes") ? c.getIntArray("upsample_kernel_sizes") : new int[] {8, 8, 8, 8},
                c.has("resblock_kernel_sizes") ? c.getIntArray("resblock_kernel_sizes") : new int[] {3, 7, 11},
                c.has("resblock_dilation_sizes") ? intMatrix(c, "resblock_dilation_sizes")
                        : new int[][] {{1, 3, 5}, {1, 3, 5}, {1, 3, 5}},
                (float) c.optDouble("leaky_relu_slope", 0.1),
                c.optBoolean("normalize_before", true));
        c.finish();
        return h;
    }

    private static int[][] intMatrix(Config c, String key) {
        if (!(c.raw(key) instanceof List<?> rows)) {
            throw new ModelLoadException(c.context() + ": \"" + key + "\" should be a list of integer lists");
        }
        int[][] out = new int[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            if (!(rows.get(i) instanceof List<?> row)) {
                throw new ModelLoadException(c.context() + ": \"" + key + "\"[" + i + "] should be a list");
            }
            out[i] = new int[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                if (!(row.get(j) instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
                    throw new ModelLoadException(c.context() + ": \"" + key + "\"[" + i + "][" + j
                            + "] should be an integer");
                }
                out[i][j] = n.intValue();
            }
        }
        return out;
    }
}
