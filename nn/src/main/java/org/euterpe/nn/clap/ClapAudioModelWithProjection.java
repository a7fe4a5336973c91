package org.euterpe.nn.clap;

import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * The audio branch of a ClapModel: {@code audio_model} ({@link ClapAudioEncoder}'s pooled output) and
 * {@code audio_projection} (linear, ReLU, linear), as transformers' {@code ClapAudioModelWithProjection}.
 */
public final class ClapAudioModelWithProjection {
    private final ClapAudioEncoder encoder;
    private final Linear linear1;
    private final Linear linear2;

    private ClapAudioModelWithProjection(ClapAudioEncoder encoder, Linear linear1, Linear linear2) {
        this.encoder = encoder;
        this.linear1 = linear1;
        this.linear2 = linear2;
    }

    /** From the weights of a whole ClapModel ({@code audio_model.*}, {@code audio_projection.*}). */
    static ClapAudioModelWithProjection load(Weights clap, ClapAudioConfig c) {
        Weights proj = clap.child("audio_projection");
        return new ClapAudioModelWithProjection(
                ClapAudioEncoder.load(clap.child("audio_model").child("audio_encoder"), c),
                Linear.load(proj.child("linear1"), c.hiddenSize(), c.projectionDim(), true),
                Linear.load(proj.child("linear2"), c.projectionDim(), c.projectionDim(), true));
    }

    public ClapAudioEncoder encoder() {
        return encoder;
    }

    /**
     * {@code audio_embeds}, not normalised. {@code trace} receives the encoder's records, {@code pooler_output}
     * and {@code audio_projection}.
     *
     * @param features {@code [batch, channels, frames, mels]}
     * @return {@code [batch, projection]}
     */
    public Tensor forward(Tensor features, Trace trace) {
        try (Scope scope = Scope.open()) {
            Tensor pooled = encoder.forward(features, trace);
            trace.record("pooler_output", pooled);
            Tensor embeds = linear2.forward(linear1.forward(pooled).relu());
            trace.record("audio_projection", embeds);
            return scope.keep(embeds);
        }
    }
}
