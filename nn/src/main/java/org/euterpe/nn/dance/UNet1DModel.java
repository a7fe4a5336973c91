package org.euterpe.nn.dance;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Dance Diffusion's waveform U-Net, diffusers' {@code UNet1DModel} as 0.21.4 builds it for the
 * Harmonai checkpoints: a v-prediction network over raw stereo audio.
 *
 * <pre>
 *   temb = [cos(2 pi w t), sin(2 pi w t)]           [B, 16]   (time_proj, 8 fixed frequencies)
 *   h = down_blocks.0([x ; temb repeated over L])  [B, c0, L]  the only time input
 *   h_k = down_blocks.k(h_{k-1})                   [B, ck, L / 2^k]   (each output is a skip)
 *   h = mid_block(h)                               [B, c_last, L / 2^(n-1)]  (through L / 2^n)
 *   h = up_blocks.i([h ; skip of down_blocks.(n-1-i)])  ... up to [B, out_channels, L]
 * </pre>
 * There is no out block, no final norm and no output activation; the {@code temb} arguments of
 * the other blocks are ignored by the reference, and so it has one time input only.
 */
public final class UNet1DModel {
    private final UNet1DConfig config;
    private final float[] fourierWeight; // time_proj.weight [8], on the host
    private final List<DownBlock1D> downBlocks;
    private final UNetMidBlock1D midBlock;
    private final List<UpBlock1D> upBlocks;

    private UNet1DModel(UNet1DConfig config, float[] fourierWeight, List<DownBlock1D> downBlocks,
            UNetMidBlock1D midBlock, List<UpBlock1D> upBlocks) {
        this.config = config;
        this.fourierWeight = fourierWeight;
        this.downBlocks = downBlocks;
        this.midBlock = midBlock;
        this.upBlocks = upBlocks;
    }

    /** Loads {@code unet/} of a pipeline folder (keep {@code files} open while the model is used). */
    public static UNet1DModel load(ComponentFiles files, Backend backend) {
        return load(files.weights(backend), files.config());
    }

    /** Builds the model from its config (read strictly) and weights (all must be used). */
    public static UNet1DModel load(Weights w, Config config) {
        return load(w, UNet1DConfig.read(config));
    }

    public static UNet1DModel load(Weights w, UNet1DConfig c) {
        float[] fourier;
        try (Scope scope = Scope.open()) {
            fourier = w.child("time_proj").get("weight", UNet1DConfig.FOURIER_SIZE).toFloatArray();
        }
        int n = c.blockOutChannels().length;
        List<DownBlock1D> down = new ArrayList<>();
        int channels = c.inChannels();
        for (int i = 0; i < n; i++) {
            int in = i == 0 ? channels + c.extraInChannels() : channels;
            channels = c.blockOutChannels()[i];
            down.add(DownBlock1D.load(w.child("down_blocks", i), c.downBlockTypes().get(i), in, channels));
        }
        UNetMidBlock1D mid = UNetMidBlock1D.load(w.child("mid_block"), channels);
        List<UpBlock1D> up = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int in = channels;
            channels = i < n - 1 ? c.blockOutChannels()[n - 2 - i] : c.outChannels();
            up.add(UpBlock1D.load(w.child("up_blocks", i), c.upBlockTypes().get(i), in, channels));
        }
        w.checkAllUsed();
        return new UNet1DModel(c, fourier, List.copyOf(down), mid, List.copyOf(up));
    }

    public UNet1DConfig config() {
        return config;
    }

    /** As {@link #forward(Tensor, float[], Trace)} without a trace. */
    public Tensor forward(Tensor sample, float[] timesteps) {
        return forward(sample, timesteps, Trace.NONE);
    }

    /**
     * One U-Net call. {@code trace} receives diffusers' module names: {@code time_proj},
     * {@code down_blocks.0.resnets.0.input}, every block's {@code down / resnets.j / attentions.j / up}
     * and every block's output ({@code down_blocks.k}, {@code mid_block}, {@code up_blocks.i}).
     *
     * @param sample    {@code [B, in_channels, L]}, L a multiple of {@code 2^levels} and at least
     *                  {@link UNet1DConfig#minLength()}
     * @param timesteps model times in [0, 1] (not scaled): one for the whole batch, or one per sample
     * @return the v-prediction {@code [B, out_channels, L]}
     */
    public Tensor forward(Tensor sample, float[] timesteps, Trace trace) {
        checkInput(sample, timesteps);
        Backend backend = sample.backend();
        int batch = sample.dim(0);
        int length = sample.dim(2);
        try (Scope scope = Scope.open()) {
            Tensor emb = backend.fromArray(timeFeatures(timesteps), Shape.of(timesteps.length, 2 * fourierWeight.length));
            trace.record("time_proj", emb);
            // [Bt, 16] repeated over the length and broadcast over the batch: [B, 16, L]
            Tensor temb = backend.binary(BinaryOp.ADD, backend.zeros(DType.F32, Shape.of(batch, 1, length)),
                    emb.reshape(timesteps.length, 2 * fourierWeight.length, 1));
            List<Tensor> skips = new ArrayList<>();
            Tensor h = sample;
            for (int k = 0; k < downBlocks.size(); k++) {
                Tensor next = downBlocks.get(k).forward(h, temb, trace.prefixed("down_blocks." + k + "."));
                trace.record("down_blocks." + k, next);
                if (k == 0) {
                    temb.close();
                }
                skips.add(next);
                h = next;
            }
            h = midBlock.forward(h, trace.prefixed("mid_block."));
            trace.record("mid_block", h);
            for (int i = 0; i < upBlocks.size(); i++) {
                Tensor skip = skips.get(skips.size() - 1 - i);
                Tensor next = upBlocks.get(i).forward(h, skip, trace.prefixed("up_blocks." + i + "."));
                trace.record("up_blocks." + i, next);
                h.close();
                if (skip != h) {
                    skip.close();
                }
                h = next;
            }
            return scope.keep(h);
        }
    }

    /**
     * {@code GaussianFourierProjection} in float32, as the reference rounds it:
     * {@code x = ((t * w) * 2) * float32(pi)}, then {@code [cos x, sin x]} (flip_sin_to_cos) per row.
     */
    float[] timeFeatures(float[] timesteps) {
        int f = fourierWeight.length;
        float[] out = new float[timesteps.length * 2 * f];
        for (int b = 0; b < timesteps.length; b++) {
            for (int i = 0; i < f; i++) {
                float x = ((timesteps[b] * fourierWeight[i]) * 2f) * (float) Math.PI;
                float cos = (float) Math.cos(x);
                float sin = (float) Math.sin(x);
                out[b * 2 * f + i] = config.flipSinToCos() ? cos : sin;
                out[b * 2 * f + f + i] = config.flipSinToCos() ? sin : cos;
            }
        }
        return out;
    }

    private void checkInput(Tensor sample, float[] timesteps) {
        if (sample.rank() != 3 || sample.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException("UNet1DModel input " + sample.shape() + " should be [batch, "
                    + config.inChannels() + ", length]");
        }
        int length = sample.dim(2);
        if (length < config.minLength() || length % config.downScaleFactor() != 0) {
            throw new IllegalArgumentException("UNet1DModel: length " + length + " must be a multiple of "
                    + config.downScaleFactor() + " (2^" + config.levels() + ") and at least " + config.minLength()
                    + " (reflect padding at the deepest level)");
        }
        if (timesteps.length != 1 && timesteps.length != sample.dim(0)) {
            throw new IllegalArgumentException("UNet1DModel: " + timesteps.length + " timesteps for a batch of "
                    + sample.dim(0) + " (give one, or one per sample)");
        }
        for (float t : timesteps) {
            if (!Float.isFinite(t)) {
                throw new IllegalArgumentException("UNet1DModel: timestep " + t + " is not finite");
            }
        }
    }
}
