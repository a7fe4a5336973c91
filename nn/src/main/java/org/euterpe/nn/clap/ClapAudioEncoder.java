package org.euterpe.nn.clap;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.LayerNorm;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * {@code audio_model.audio_encoder}, HTSAT: the log-mel features normalised per mel bin (an inference-mode
 * BatchNorm), stretched to the square {@code spec_size} image (bicubic along time, then the time axis folded into
 * {@code freq_ratio} strips stacked along frequency), cut into patches, run through the Swin stages, layer-normed
 * and averaged over every token: {@code pooler_output [batch, hidden]}.
 *
 * <pre>
 *   features [b, c, frames, mels] ─ bn(mels) ─ bicubic to [b, c, spec*r, mels] ─ fold ─ [b, c, spec, spec]
 *   ─ patch embed [b, grid², 96] ─ stage 0 ─ merge ─ … ─ stage L-1 [b, tokens, hidden] ─ norm ─ mean ─ [b, hidden]
 * </pre>
 */
public final class ClapAudioEncoder {
    private static final float CUBIC_A = -0.75f; // torch's bicubic kernel

    private final ClapAudioConfig config;
    private final Tensor bnScale; // [mels]: weight / sqrt(running_var + eps)
    private final Tensor bnShift; // [mels]: bias - running_mean * scale
    private final ClapAudioPatchEmbed patchEmbed;
    private final List<ClapAudioStage> stages;
    private final LayerNorm norm;

    private ClapAudioEncoder(ClapAudioConfig config, Tensor bnScale, Tensor bnShift, ClapAudioPatchEmbed patchEmbed,
            List<ClapAudioStage> stages, LayerNorm norm) {
        this.config = config;
        this.bnScale = bnScale;
        this.bnShift = bnShift;
        this.patchEmbed = patchEmbed;
        this.stages = stages;
        this.norm = norm;
    }

    static ClapAudioEncoder load(Weights w, ClapAudioConfig c) {
        int mels = c.numMelBins();
        Weights bn = w.child("batch_norm");
        float[] gamma = floats(bn, "weight", mels);
        float[] beta = floats(bn, "bias", mels);
        float[] mean = floats(bn, "running_mean", mels);
        float[] var = floats(bn, "running_var", mels);
        bn.ignore("num_batches_tracked");
        float[] scale = new float[mels];
        float[] shift = new float[mels];
        for (int i = 0; i < mels; i++) {
            scale[i] = (float) (gamma[i] / Math.sqrt(var[i] + ClapAudioConfig.TORCH_NORM_EPS));
            shift[i] = beta[i] - mean[i] * scale[i];
        }
        List<ClapAudioStage> stages = new ArrayList<>();
        int layers = c.depths().length;
        for (int i = 0; i < layers; i++) {
            // transformers' input_resolutions: the patch grid halved per stage (floor)
            int res = c.gridSize() >> i;
            if (res < 1) {
                throw new ModelLoadException(w.key("layers." + i) + ": the " + c.gridSize() + "-patch grid does not"
                        + " survive " + i + " halvings");
            }
            stages.add(ClapAudioStage.load(w.child("layers", i), c, i, res, res, i == layers - 1));
        }
        return new ClapAudioEncoder(c,
                w.backend().fromArray(scale, Shape.of(mels)),
                w.backend().fromArray(shift, Shape.of(mels)),
                ClapAudioPatchEmbed.load(w.child("patch_embed"), c),
                List.copyOf(stages),
                LayerNorm.load(w.child("norm"), c.hiddenSize(), ClapAudioConfig.TORCH_NORM_EPS));
    }

    private static float[] floats(Weights w, String name, int n) {
        int[] shape = w.shape(name);
        if (shape.length != 1 || shape[0] != n) {
            throw new ModelLoadException(w.key(name) + " has shape " + java.util.Arrays.toString(shape) + ", expected ["
                    + n + "]");
        }
        return w.floats(name);
    }

    public ClapAudioConfig config() {
        return config;
    }

    /**
     * {@code pooler_output}. {@code trace} receives {@code image} (the normalised, folded input),
     * {@code patch_embed}, {@code layers.N} and {@code last_hidden_state}.
     *
     * @param features {@code [batch, channels, frames, mels]}: the feature extractor's {@code input_features}
     * @return {@code [batch, hidden]}
     */
    public Tensor forward(Tensor features, Trace trace) {
        if (features.rank() != 4 || features.dim(3) != config.numMelBins()) {
            throw new IllegalArgumentException("CLAP audio features " + features.shape() + " are not [batch, channels,"
                    + " frames, " + config.numMelBins() + "]");
        }
        try (Scope scope = Scope.open()) {
            Tensor image = toImage(features.mul(bnScale).add(bnShift));
            trace.record("image", image);
            Tensor h = patchEmbed.forward(image);
            trace.record("patch_embed", h);
            for (int i = 0; i < stages.size(); i++) {
                h = stages.get(i).forward(h);
                trace.record("layers." + i, h);
            }
            Tensor last = norm.forward(h);
            trace.record("last_hidden_state", last);
            return scope.keep(last.mean(1, false));
        }
    }

    /**
     * transformers' {@code reshape_mel2img}: bicubic (align_corners) up to {@code spec_size * freq_ratio} frames and
     * {@code spec_size / freq_ratio} mel bins where shorter, then the time axis cut into {@code freq_ratio} strips
     * laid one above the other: {@code [b, c, frames, mels] -> [b, c, mels*r, frames/r]} (frequency as rows).
     */
    private Tensor toImage(Tensor x) {
        int ratio = config.freqRatio();
        int specWidth = config.specSize() * ratio;
        int specHeight = config.specSize() / ratio;
        int frames = x.dim(2);
        int mels = x.dim(3);
        if (frames > specWidth || mels > specHeight) {
            throw new IllegalArgumentException(frames + " frames x " + mels + " mel bins exceed the model's "
                    + specWidth + " x " + specHeight + " input");
        }
        if (frames < specWidth) {
            // [b, c, mels, frames] @ A^T, A [specWidth, frames]
            x = x.backend().matmul(x.permute(0, 1, 3, 2), bicubic(frames, specWidth, x), false, true, 1f, null, 0f,
                    null).permute(0, 1, 3, 2);
        }
        if (mels < specHeight) {
            // as the reference: the second resize targets the original frame count
            if (x.dim(2) != frames) {
                x = x.backend().matmul(x.permute(0, 1, 3, 2), bicubic(x.dim(2), frames, x), false, true, 1f, null,
                        0f, null).permute(0, 1, 3, 2);
            }
            x = x.backend().matmul(x, bicubic(mels, specHeight, x), false, true, 1f, null, 0f, null);
        }
        int b = x.dim(0);
        int c = x.dim(1);
        int t = x.dim(2);
        int f = x.dim(3);
        return x.reshape(b, c * ratio, t / ratio, f).permute(0, 1, 3, 2).reshape(b, c, f * ratio, t / ratio);
    }

    /**
     * The {@code [out, in]} matrix of torch's 1-D bicubic resize with {@code align_corners=True}: output i samples
     * the input at {@code i * (in-1)/(out-1)} with the A = -0.75 cubic kernel over four neighbours (indices clamped
     * to the edges). Computed in float32, as torch computes its coefficients.
     */
    private static Tensor bicubic(int in, int out, Tensor like) {
        float scale = out > 1 ? (float) (in - 1) / (out - 1) : 0f;
        float[] m = new float[out * in];
        for (int i = 0; i < out; i++) {
            float real = scale * i;
            int base = (int) Math.floor(real);
            float t = real - base;
            float[] w = cubicWeights(t);
            for (int k = 0; k < 4; k++) {
                int src = Math.min(Math.max(base - 1 + k, 0), in - 1);
                m[i * in + src] += w[k];
            }
        }
        return like.backend().fromArray(m, Shape.of(out, in));
    }

    private static float[] cubicWeights(float t) {
        float a = CUBIC_A;
        float x1 = t + 1;
        float x2 = 1 - t;
        float x3 = 2 - t;
        return new float[] {
            ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * x2 - (a + 3)) * x2 * x2 + 1,
            ((a * x3 - 5 * a) * x3 + 8 * a) * x3 - 4 * a,
        };
    }
}
