package org.euterpe.pipeline.tokenizer;

/**
 * A SentencePiece model (a {@code spiece.model} protobuf, or a {@code tokenizer.json} holding a Unigram model)
 * that is malformed or uses a feature this engine does not implement. The message names the file and the
 * field.
 */
public class SentencePieceFormatException extends IllegalArgumentException {
    public SentencePieceFormatException(String message) {
        super(message);
    }

    public SentencePieceFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
