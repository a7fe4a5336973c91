package org.euterpe.nn.stableaudio;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code StableAudioProjectionModel}: maps the T5 states to the conditioning width (identity
 * when the widths match) and embeds the two timing numbers, {@code seconds_start} and
 * {@code seconds_total}, each by its own {@link StableAudioNumberConditioner}.
 */
public final class StableAudioProjectionModel {
    private final int textEncoderDim;
    private final int conditioningDim;
    /** null: identity. */
    private final Linear textProjection;
    private final StableAudioNumberConditioner startNumberConditioner;
    private final StableAudioNumberConditioner endNumberConditioner;

    private StableAudioProjectionModel(int textEncoderDim, int conditioningDim, Linear textProjection,
            StableAudioNumberConditioner start, StableAudioNumberConditioner end) {
        this.textEncoderDim = textEncoderDim;
        this.conditioningDim = conditioningDim;
        this.textProjection = textProjection;
        this.startNumberConditioner = start;
        this.endNumberConditioner = end;
    }

    public static StableAudioProjectionModel load(ComponentFiles files, Backend backend) {
        return load(files.weights(backend), files.config());
    }

    public static StableAudioProjectionModel load(Weights w, Config c) {
        int textDim = c.getInt("text_encoder_dim");
        int dim = c.getInt("conditioning_dim");
        double min = c.getDouble("min_value");
        double max = c.getDouble("max_value");
        c.finish();
        if (!(max > min)) {
            throw new org.euterpe.nn.ModelLoadException(c.context() + ": max_value " + max
                    + " must be above min_value " + min);
        }
        Linear projection = textDim == dim ? null : Linear.load(w.child("text_projection"), textDim, dim, true);
        StableAudioProjectionModel m = new StableAudioProjectionModel(textDim, dim, projection,
                StableAudioNumberConditioner.load(w.child("start_number_conditioner"), dim, min, max),
                StableAudioNumberConditioner.load(w.child("end_number_conditioner"), dim, min, max));
        w.checkAllUsed();
        return m;
    }

    public int conditioningDim() {
        return conditioningDim;
    }

    public int textEncoderDim() {
        return textEncoderDim;
    }

    /** {@code [..., text_encoder_dim]} to {@code [..., conditioning_dim]}; the input itself when they match. */
    public Tensor projectText(Tensor textHiddenStates) {
        return textProjection == null ? textHiddenStates : textProjection.forward(textHiddenStates);
    }

    /** {@code seconds_start_hidden_states [n, 1, conditioning_dim]}. */
    public Tensor secondsStart(float[] seconds, Backend backend) {
        return startNumberConditioner.forward(seconds, backend);
    }

    /** {@code seconds_end_hidden_states [n, 1, conditioning_dim]}. */
    public Tensor secondsEnd(float[] seconds, Backend backend) {
        return endNumberConditioner.forward(seconds, backend);
    }

    /** The largest {@code seconds} the conditioners tell apart ({@code max_value}). */
    public double maxValue() {
        return startNumberConditioner.maxValue();
    }
}
