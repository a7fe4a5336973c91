package org.euterpe.nn.dance;

import java.util.List;
import java.util.Set;

import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;

/**
 * The {@code UNet1DModel} configuration of Dance Diffusion checkpoints ({@code unet/config.json},
 * diffusers 0.21.4 defaults for absent keys). Only the waveform U-Net is supported: Fourier time
 * features concatenated to the input, no time MLP, no out block, and the six block types of
 * {@link DownBlock1D} / {@link UpBlock1D}. Any other option is rejected by name.
 *
 * @param sampleRate       the model's audio rate in Hz ({@code sample_rate}: optional in diffusers,
 *                         but the pipeline reads it, so it is required here)
 * @param sampleSize       the training window in samples
 * @param extraInChannels  the Fourier features' 16 channels concatenated at level 0
 * @param flipSinToCos     cos before sin in the time features
 */
public record UNet1DConfig(int sampleSize, int sampleRate, int inChannels, int outChannels, int extraInChannels,
        boolean flipSinToCos, List<String> downBlockTypes, List<String> upBlockTypes, int[] blockOutChannels) {

    /** diffusers' {@code GaussianFourierProjection(embedding_size=8)}: 8 frequencies, cos and sin. */
    public static final int FOURIER_SIZE = 8;

    private static final Set<String> DOWN = Set.of("DownBlock1DNoSkip", "DownBlock1D", "AttnDownBlock1D");
    private static final Set<String> UP = Set.of("AttnUpBlock1D", "UpBlock1D", "UpBlock1DNoSkip");

    public UNet1DConfig {
        int n = blockOutChannels.length;
        if (n == 0 || downBlockTypes.size() != n || upBlockTypes.size() != n) {
            throw new ModelLoadException("UNet1DModel: down_block_types (" + downBlockTypes.size()
                    + "), up_block_types (" + upBlockTypes.size() + ") and block_out_channels (" + n
                    + ") must have the same, non-zero length");
        }
        for (int i = 0; i < n; i++) {
            String d = downBlockTypes.get(i);
            if (!DOWN.contains(d)) {
                throw new ModelLoadException("UNet1DModel: unsupported down block type \"" + d + "\" at " + i
                        + " (supported: " + DOWN + "; the value-function/RL blocks are not)");
            }
            if (d.equals("DownBlock1DNoSkip") != (i == 0)) {
                throw new ModelLoadException("UNet1DModel: DownBlock1DNoSkip must be down block 0 and only it (it"
                        + " takes the time features), got " + downBlockTypes);
            }
            String u = upBlockTypes.get(i);
            if (!UP.contains(u)) {
                throw new ModelLoadException("UNet1DModel: unsupported up block type \"" + u + "\" at " + i
                        + " (supported: " + UP + ")");
            }
            if (u.equals("UpBlock1DNoSkip") != (i == n - 1)) {
                throw new ModelLoadException("UNet1DModel: UpBlock1DNoSkip must be the last up block and only it,"
                        + " got " + upBlockTypes);
            }
            if (blockOutChannels[i] < 1) {
                throw new ModelLoadException("UNet1DModel: block_out_channels must be positive, got "
                        + java.util.Arrays.toString(blockOutChannels));
            }
        }
        if (extraInChannels != 2 * FOURIER_SIZE) {
            throw new ModelLoadException("UNet1DModel: extra_in_channels " + extraInChannels + " must be "
                    + 2 * FOURIER_SIZE + ", the width of the Fourier time features concatenated to the input");
        }
        if (inChannels < 1 || outChannels < 1 || sampleRate < 1 || sampleSize < 1) {
            throw new ModelLoadException("UNet1DModel: in_channels, out_channels, sample_rate and sample_size must"
                    + " be positive");
        }
    }

    /** Number of 2x resamplings between input and the mid block's centre: {@code len(up_block_types)}. */
    public int levels() {
        return upBlockTypes.size();
    }

    /** The pipeline's {@code down_scale_factor}: lengths are multiples of it. */
    public int downScaleFactor() {
        return 1 << levels();
    }

    /** The shortest length reflect padding allows: {@code 3 * 2^levels}. */
    public long minLength() {
        return 3L * downScaleFactor();
    }

    public static UNet1DConfig read(Config c) {
        c.require("time_embedding_type", null, "fourier");
        c.require("use_timestep_embedding", null, false);
        c.require("mid_block_type", null, "UNetMidBlock1D");
        c.require("out_block_type", (Object) null);
        // Read by diffusers but never by these block types (FORMAT-DANCE.md section 10): accepted as any value.
        c.raw("act_fn");
        c.raw("norm_num_groups");
        c.raw("layers_per_block");
        c.raw("downsample_each_block");
        c.raw("freq_shift");
        if (c.raw("sample_rate") == null) {
            throw new ModelLoadException(c.context() + ": sample_rate is missing; Dance Diffusion needs the model's"
                    + " audio rate");
        }
        UNet1DConfig u = new UNet1DConfig(
                c.optInt("sample_size", 65536),
                c.getInt("sample_rate"),
                c.optInt("in_channels", 2),
                c.optInt("out_channels", 2),
                c.optInt("extra_in_channels", 0),
                c.optBoolean("flip_sin_to_cos", true),
                c.has("down_block_types") ? c.getStringList("down_block_types")
                        : List.of("DownBlock1DNoSkip", "DownBlock1D", "AttnDownBlock1D"),
                c.has("up_block_types") ? c.getStringList("up_block_types")
                        : List.of("AttnUpBlock1D", "UpBlock1D", "UpBlock1DNoSkip"),
                c.has("block_out_channels") ? c.getIntArray("block_out_channels") : new int[] {32, 32, 64});
        c.finish();
        return u;
    }
}
