package org.euterpe.nn.clap;

import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.LayerNorm;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * RoBERTa-style embeddings ({@code text_model.embeddings}): word + token type 0 + position,
 * then LayerNorm.
 */
final class ClapTextEmbeddings {
    private final Tensor word;
    private final Tensor position;
    private final Tensor tokenType;
    private final LayerNorm layerNorm;

    private ClapTextEmbeddings(Tensor word, Tensor position, Tensor tokenType, LayerNorm layerNorm) {
        this.word = word;
        this.position = position;
        this.tokenType = tokenType;
        this.layerNorm = layerNorm;
    }

    static ClapTextEmbeddings load(Weights w, ClapTextConfig c) {
        int h = c.hiddenSize();
        // position ids come from the input ids (RoBERTa), never from this arange buffer
        w.ignore("position_ids");
        // transformers uses this buffer as the token type ids; the engine assumes type 0 everywhere
        if (w.has("token_type_ids")) {
            for (long t : w.longs("token_type_ids")) {
                if (t != 0) {
                    throw new ModelLoadException(w.key("token_type_ids") + " holds a non-zero token type " + t
                            + "; only token type 0 is supported");
                }
            }
        }
        return new ClapTextEmbeddings(
                w.get("word_embeddings.weight", c.vocabSize(), h),
                w.get("position_embeddings.weight", c.maxPositions(), h),
                w.get("token_type_embeddings.weight", c.typeVocabSize(), h),
                LayerNorm.load(w.child("LayerNorm"), h, c.layerNormEps()));
    }

    /** {@code -> [batch, length, hidden]}. */
    Tensor forward(TokenBatch t) {
        Backend be = word.backend();
        Shape s = Shape.of(t.batch(), t.length());
        Tensor ids = be.fromArray(t.ids(), s);
        Tensor types = be.fromArray(new long[t.batch() * t.length()], s);
        Tensor positions = be.fromArray(t.positions(), s);
        // the reference's order: (word + token type) + position
        Tensor e = be.embedding(ids, word).add(be.embedding(types, tokenType)).add(be.embedding(positions, position));
        return layerNorm.forward(e);
    }
}
