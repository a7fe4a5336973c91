package org.euterpe.nn.clap;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * The CLAP text encoder of AudioLDM ({@code ClapTextModelWithProjection}) and MusicLDM (the
 * text branch of {@code ClapModel}, {@code get_text_features}): RoBERTa embeddings, a
 * post-LayerNorm transformer, a tanh pooler over the first token and a two-layer projection.
 *
 * <p>Only each batch's real tokens are computed (see {@link TokenBatch}): results for the
 * padding positions of a padded input are not produced, and the others do not depend on them.
 */
public final class ClapTextEncoder {
    /** Checkpoint parts of a whole ClapModel that belong to its audio branch; never loaded. */
    private static final List<String> AUDIO_BRANCH_CHILDREN = List.of("audio_model", "audio_projection");
    private static final List<String> AUDIO_BRANCH_KEYS = List.of("logit_scale_a", "logit_scale_t");

    private final Backend backend;
    private final ClapTextConfig config;
    private final ClapTextEmbeddings embeddings;
    private final List<ClapTextLayer> layers;
    private final Linear pooler;
    private final Linear projection1;
    private final Linear projection2;

    /**
     * What one forward pass returns.
     *
     * @param lastHiddenState {@code [batch, length, hidden]}, length = the longest real length;
     *                        rows past a row's own length are padding
     * @param pooled          {@code [batch, hidden]}: tanh(dense(first token))
     * @param textEmbeds      {@code [batch, projection]}: the projection, not normalised
     * @param lengths         each row's real length
     */
    public record Output(Tensor lastHiddenState, Tensor pooled, Tensor textEmbeds, int[] lengths) {
    }

    private ClapTextEncoder(Backend backend, ClapTextConfig config, ClapTextEmbeddings embeddings, List<ClapTextLayer> layers,
            Linear pooler, Linear projection1, Linear projection2) {
        this.backend = backend;
        this.config = config;
        this.embeddings = embeddings;
        this.layers = layers;
        this.pooler = pooler;
        this.projection1 = projection1;
        this.projection2 = projection2;
    }

    /**
     * Loads {@code text_encoder/} of a pipeline folder onto {@code backend}. On CPU backends the weights
     * are views of the mapped file: keep {@code files} open while the model is used.
     */
    public static ClapTextEncoder load(ComponentFiles files, Backend backend) {
        return load(files.weights(backend), files.config());
    }

    /** Builds the encoder from a config (read strictly) and its weights (all must be used). */
    public static ClapTextEncoder load(Weights w, Config config) {
        ClapTextConfig c = ClapTextConfig.read(config);
        Weights text = w.child("text_model");
        List<ClapTextLayer> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            layers.add(ClapTextLayer.load(text.child("encoder").child("layer", i), c));
        }
        int h = c.hiddenSize();
        int p = c.projectionDim();
        Weights proj = w.child("text_projection");
        ClapTextEncoder encoder = new ClapTextEncoder(w.backend(), c,
                ClapTextEmbeddings.load(text.child("embeddings"), c),
                List.copyOf(layers),
                Linear.load(text.child("pooler").child("dense"), h, h, true),
                Linear.load(proj.child("linear1"), h, p, true),
                Linear.load(proj.child("linear2"), p, p, true));
        if (c.fullClapModel()) {
            AUDIO_BRANCH_CHILDREN.forEach(w::ignoreChild);
            AUDIO_BRANCH_KEYS.forEach(w::ignore);
        }
        w.checkAllUsed();
        return encoder;
    }

    public ClapTextConfig config() {
        return config;
    }

    /**
     * The full forward pass. {@code trace} receives {@code embeddings}, {@code encoder.layer.N},
     * {@code pooler} and {@code text_projection}.
     *
     * @param ids  {@code [batch][tokens]} token ids; rows may differ in length
     * @param mask {@code [batch][tokens]} attention mask, 1 for real tokens, 0 for padding
     */
    public Output forward(long[][] ids, long[][] mask, Trace trace) {
        TokenBatch tokens = TokenBatch.of(ids, mask, config);
        try (Scope scope = Scope.open()) {
            Tensor additiveMask = tokens.mask() == null ? null
                    : backend.fromArray(tokens.mask(), Shape.of(tokens.batch(), 1, 1, tokens.length()));
            Tensor h = embeddings.forward(tokens);
            trace.record("embeddings", h);
            for (int i = 0; i < layers.size(); i++) {
                h = layers.get(i).forward(h, additiveMask);
                trace.record("encoder.layer." + i, h);
            }
            Tensor first = h.slice(1, 0, 1).reshape(tokens.batch(), config.hiddenSize());
            Tensor pooled = pooler.forward(first).tanh();
            trace.record("pooler", pooled);
            Tensor embeds = projection2.forward(projection1.forward(pooled).relu());
            trace.record("text_projection", embeds);
            return new Output(scope.keep(h), scope.keep(pooled), scope.keep(embeds), tokens.lengths());
        }
    }

    /** {@code text_embeds [batch, projection]}, not normalised. */
    public Tensor textEmbeds(long[][] ids, long[][] mask) {
        try (Scope scope = Scope.open()) {
            return scope.keep(forward(ids, mask, Trace.NONE).textEmbeds());
        }
    }

    /** {@code text_embeds [1, projection]} of one sequence, not normalised. */
    public Tensor encode(long[] ids, long[] mask) {
        return textEmbeds(new long[][] {ids}, new long[][] {mask});
    }

    /**
     * What the pipelines condition on: {@code text_embeds / max(||text_embeds||, 1e-12)},
     * {@code [batch, projection]}.
     */
    public Tensor promptEmbeds(long[][] ids, long[][] mask) {
        try (Scope scope = Scope.open()) {
            return scope.keep(forward(ids, mask, Trace.NONE).textEmbeds().l2Normalize(1e-12f));
        }
    }
}
