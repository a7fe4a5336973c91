package org.euterpe.nn.t5;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * transformers' {@code T5EncoderModel}: the shared token embedding, {@code num_layers} pre-norm blocks whose
 * attention shares the first block's relative-position bias, and a final RMS norm.
 *
 * <p>Every position is computed, padding included, as the reference does: the padding mask only keeps
 * real tokens from attending to padded ones. Stable Audio multiplies the padded rows by zero afterwards.
 */
public final class T5EncoderModel {
    private final Backend backend;
    private final T5Config config;
    private final Tensor embedTokens;
    private final List<T5Block> blocks;
    private final T5LayerNorm finalLayerNorm;

    private T5EncoderModel(Backend backend, T5Config config, Tensor embedTokens, List<T5Block> blocks,
            T5LayerNorm finalLayerNorm) {
        this.backend = backend;
        this.config = config;
        this.embedTokens = embedTokens;
        this.blocks = blocks;
        this.finalLayerNorm = finalLayerNorm;
    }

    /** Loads {@code text_encoder/} of a pipeline folder; keep {@code files} open while the model is used. */
    public static T5EncoderModel load(ComponentFiles files, Backend backend) {
        return load(files.weights(backend), files.config());
    }

    /** Builds the encoder from its config (read strictly) and weights (all must be used). */
    public static T5EncoderModel load(Weights w, Config config) {
        T5Config c = T5Config.read(config);
        Tensor shared = w.get("shared.weight", c.vocabSize(), c.dModel());
        Weights encoder = w.child("encoder");
        encoder.ignore("embed_tokens.weight"); // when saved: tied to shared.weight
        List<T5Block> blocks = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            blocks.add(T5Block.load(encoder.child("block", i), c, i == 0));
        }
        T5EncoderModel model = new T5EncoderModel(w.backend(), c, shared, List.copyOf(blocks),
                T5LayerNorm.load(encoder.child("final_layer_norm"), c.dModel(), c.layerNormEpsilon()));
        w.checkAllUsed();
        return model;
    }

    public T5Config config() {
        return config;
    }

    /**
     * {@code text_encoder(ids, attention_mask)[0]}. {@code trace} receives {@code embed_tokens},
     * {@code block.N} and {@code final_layer_norm}.
     *
     * @param ids  {@code [batch][length]}, all rows of one length
     * @param mask {@code [batch][length]}, 1 for real tokens, 0 for padding
     * @return {@code last_hidden_state [batch, length, d_model]}
     */
    public Tensor forward(long[][] ids, long[][] mask, Trace trace) {
        int batch = ids.length;
        if (batch == 0 || mask.length != batch) {
            throw new IllegalArgumentException("ids and mask need the same, non-zero number of rows");
        }
        int length = ids[0].length;
        long[] flat = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            if (ids[b].length != length || mask[b].length != length) {
                throw new IllegalArgumentException("row " + b + " has " + ids[b].length + " ids and "
                        + mask[b].length + " mask entries, expected " + length);
            }
            for (int i = 0; i < length; i++) {
                long id = ids[b][i];
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " outside the vocabulary of "
                            + config.vocabSize());
                }
                flat[b * length + i] = id;
            }
        }
        try (Scope scope = Scope.open()) {
            Tensor h = backend.embedding(backend.fromArray(flat, Shape.of(batch, length)), embedTokens);
            trace.record("embed_tokens", h);
            Tensor bias = blocks.get(0).selfAttention().positionBias(backend, mask, length);
            for (int i = 0; i < blocks.size(); i++) {
                h = blocks.get(i).forward(h, bias);
                trace.record("block." + i, h);
            }
            h = finalLayerNorm.forward(h);
            trace.record("final_layer_norm", h);
            return scope.keep(h);
        }
    }
}
