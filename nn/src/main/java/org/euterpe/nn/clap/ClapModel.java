package org.euterpe.nn.clap;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * A whole CLAP model as a text-audio scorer, as transformers' {@code ClapModel.forward} computes
 * {@code logits_per_text}: both towers' projections L2-normalised, their cosine similarities scaled by
 * {@code exp(logit_scale_t)}. MusicLDM's {@code text_encoder} is such a model; AudioLDM's is a
 * {@code ClapTextModelWithProjection}, which ships only the text branch, so it cannot score audio.
 */
public final class ClapModel {
    private final Backend backend;
    private final ClapTextEncoder text;
    private final ClapAudioModelWithProjection audio;
    private final float logitScaleText;
    private final float logitScaleAudio;

    private ClapModel(Backend backend, ClapTextEncoder text, ClapAudioModelWithProjection audio, float logitScaleText,
            float logitScaleAudio) {
        this.backend = backend;
        this.text = text;
        this.audio = audio;
        this.logitScaleText = logitScaleText;
        this.logitScaleAudio = logitScaleAudio;
    }

    /** Whether {@code text_encoder/} is a whole ClapModel (config model_type {@code clap}) with audio weights. */
    public static boolean hasAudioBranch(ComponentFiles files) {
        return "clap".equals(files.config().optString("model_type", "clap_text_model"))
                && files.source().contains(files.prefix() + "audio_projection.linear1.weight");
    }

    /**
     * Loads the audio branch and logit scales of {@code text_encoder/} beside its already loaded text branch.
     *
     * @throws ModelLoadException naming the problem when the checkpoint has no audio branch
     */
    public static ClapModel load(ComponentFiles files, ClapTextEncoder text, Backend backend) {
        if (!hasAudioBranch(files)) {
            throw new ModelLoadException(files.config().context() + ": this text encoder ("
                    + files.config().optString("model_type", "clap_text_model") + ") ships only the CLAP text branch;"
                    + " scoring audio needs a whole ClapModel with its audio tower (MusicLDM's text_encoder has one,"
                    + " AudioLDM's does not)");
        }
        ClapAudioConfig c = ClapAudioConfig.read(files.config());
        Weights w = files.weights(backend);
        ClapAudioModelWithProjection audio = ClapAudioModelWithProjection.load(w, c);
        float scaleT = scalar(w, "logit_scale_t");
        float scaleA = scalar(w, "logit_scale_a");
        w.ignoreChild("text_model");
        w.ignoreChild("text_projection");
        w.checkAllUsed();
        if (text.config().projectionDim() != c.projectionDim()) {
            throw new ModelLoadException(files.config().context() + ": text projection " + text.config().projectionDim()
                    + " and audio projection " + c.projectionDim() + " differ");
        }
        return new ClapModel(backend, text, audio, scaleT, scaleA);
    }

    private static float scalar(Weights w, String name) {
        float[] v = w.floats(name);
        if (v.length != 1) {
            throw new ModelLoadException(w.key(name) + " has " + v.length + " values, expected a scalar");
        }
        return (float) Math.exp(v[0]);
    }

    public Backend backend() {
        return backend;
    }

    public ClapTextEncoder text() {
        return text;
    }

    public ClapAudioModelWithProjection audio() {
        return audio;
    }

    /** {@code exp(logit_scale_t)}: the scale of {@code logits_per_text}. */
    public float logitScaleText() {
        return logitScaleText;
    }

    /** {@code exp(logit_scale_a)}: the scale of {@code logits_per_audio}. */
    public float logitScaleAudio() {
        return logitScaleAudio;
    }

    /** Normalised {@code audio_embeds [batch, projection]} of feature-extractor output. */
    public Tensor audioEmbeds(Tensor features, Trace trace) {
        try (Scope scope = Scope.open()) {
            return scope.keep(audio.forward(features, trace).l2Normalize(1e-12f));
        }
    }

    /** Normalised {@code text_embeds [batch, projection]}. */
    public Tensor textEmbeds(long[][] ids, long[][] mask) {
        return text.promptEmbeds(ids, mask);
    }

    /**
     * {@code logits_per_text [texts, audios] = text_embeds @ audio_embeds^T * exp(logit_scale_t)}.
     *
     * @param textEmbeds  normalised {@code [texts, projection]}
     * @param audioEmbeds normalised {@code [audios, projection]}
     */
    public Tensor logitsPerText(Tensor textEmbeds, Tensor audioEmbeds) {
        return textEmbeds.backend().matmul(textEmbeds, audioEmbeds, false, true, 1f, null, 0f, null)
                .mul(logitScaleText);
    }
}
