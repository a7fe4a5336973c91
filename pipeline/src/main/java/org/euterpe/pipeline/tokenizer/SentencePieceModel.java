package org.euterpe.pipeline.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The parts of a SentencePiece {@code ModelProto} that encoding needs: the pieces (text, score, type) in id
 * order, the normaliser spec, and the trainer flags that change encoding. Read from the protobuf of a
 * {@code spiece.model} ({@link #parse}); {@link T5Tokenizer} also builds one from a {@code tokenizer.json}.
 *
 * <p>Only Unigram models without byte fallback are implemented; others are refused naming the field.
 */
public final class SentencePieceModel {

    /** {@code ModelProto.SentencePiece.Type}. */
    public enum PieceType {
        NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

        static PieceType fromProto(long v) {
            return switch ((int) v) {
                case 1 -> NORMAL;
                case 2 -> UNKNOWN;
                case 3 -> CONTROL;
                case 4 -> USER_DEFINED;
                case 5 -> UNUSED;
                case 6 -> BYTE;
                default -> null;
            };
        }
    }

    /** One vocabulary entry; its id is its index. */
    public record Piece(String piece, float score, PieceType type) {
        public Piece {
            Objects.requireNonNull(piece, "piece");
            Objects.requireNonNull(type, "type");
        }
    }

    /**
     * {@code NormalizerSpec}: the rule name, the compiled rules (empty: identity) and the three whitespace
     * switches.
     */
    public record NormalizerSpec(String name, byte[] precompiledCharsmap, boolean addDummyPrefix,
            boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
        public NormalizerSpec {
            precompiledCharsmap = precompiledCharsmap == null ? new byte[0] : precompiledCharsmap;
        }
    }

    private static final int UNIGRAM = 1;

    private final List<Piece> pieces;
    private final NormalizerSpec normalizer;
    private final boolean treatWhitespaceAsSuffix;
    private final int unkId;
    private final Map<String, Integer> idByPiece;

    /**
     * @throws SentencePieceFormatException when a piece is empty or defined twice, or there is not exactly
     *                                      one unknown piece
     */
    public SentencePieceModel(List<Piece> pieces, NormalizerSpec normalizer, boolean treatWhitespaceAsSuffix,
            String source) {
        this.pieces = List.copyOf(pieces);
        this.normalizer = Objects.requireNonNull(normalizer, "normalizer");
        this.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix;
        Map<String, Integer> ids = new HashMap<>(pieces.size() * 2);
        int unk = -1;
        for (int i = 0; i < this.pieces.size(); i++) {
            Piece p = this.pieces.get(i);
            if (p.piece().isEmpty()) {
                throw new SentencePieceFormatException(source + ": piece " + i + " is empty");
            }
            if (ids.putIfAbsent(p.piece(), i) != null) {
                throw new SentencePieceFormatException(source + ": piece " + i + " \"" + p.piece()
                        + "\" is already defined (id " + ids.get(p.piece()) + ")");
            }
            if (p.type() == PieceType.UNKNOWN) {
                if (unk >= 0) {
                    throw new SentencePieceFormatException(source + ": a second unknown piece at id " + i
                            + " (the first is " + unk + ")");
                }
                unk = i;
            }
            if (p.type() == PieceType.BYTE) {
                throw new SentencePieceFormatException(source + ": piece " + i + " is a byte piece; byte fallback"
                        + " (trainer_spec.byte_fallback) is not implemented");
            }
        }
        if (unk < 0) {
            throw new SentencePieceFormatException(source + ": no piece has type UNKNOWN (<unk> is required)");
        }
        this.unkId = unk;
        this.idByPiece = ids;
    }

    /**
     * Parses a serialised {@code ModelProto}.
     *
     * @param source names the file in errors
     * @throws SentencePieceFormatException for malformed protobuf, a field of the wrong type, or a model this
     *                                      engine does not implement (non-Unigram, byte fallback)
     */
    public static SentencePieceModel parse(byte[] proto, String source) {
        ProtoReader r = new ProtoReader(proto, source);
        List<Piece> pieces = new ArrayList<>();
        NormalizerSpec normalizer = null;
        boolean suffix = false;
        boolean any = false;
        while (r.next()) {
            any = true;
            switch (r.field()) {
                case 1 -> pieces.add(parsePiece(r.message("pieces[" + pieces.size() + "]"), pieces.size(), source));
                case 2 -> suffix = parseTrainerSpec(r.message("trainer_spec"), source);
                case 3 -> normalizer = parseNormalizer(r.message("normalizer_spec"));
                default -> r.skip();
            }
        }
        if (!any || pieces.isEmpty()) {
            throw new SentencePieceFormatException(source + ": not a SentencePiece model (no pieces)");
        }
        if (normalizer == null) {
            normalizer = new NormalizerSpec("identity", new byte[0], true, true, true);
        }
        return new SentencePieceModel(pieces, normalizer, suffix, source);
    }

    private static Piece parsePiece(ProtoReader r, int index, String source) {
        String text = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> text = r.stringValue("piece");
                case 2 -> score = r.floatValue("score");
                case 3 -> {
                    long v = r.varintValue("type");
                    type = PieceType.fromProto(v);
                    if (type == null) {
                        throw new SentencePieceFormatException(source + ": pieces[" + index + "] has unknown type " + v);
                    }
                }
                default -> r.skip();
            }
        }
        if (text == null) {
            throw new SentencePieceFormatException(source + ": pieces[" + index + "] has no piece text");
        }
        return new Piece(text, score, type);
    }

    /** Checks the trainer flags that change encoding; returns treat_whitespace_as_suffix. */
    private static boolean parseTrainerSpec(ProtoReader r, String source) {
        boolean suffix = false;
        while (r.next()) {
            switch (r.field()) {
                case 3 -> {
                    long type = r.varintValue("model_type");
                    if (type != UNIGRAM) {
                        throw new SentencePieceFormatException(source + ": trainer_spec.model_type is " + type
                                + " (" + (type == 2 ? "BPE" : type == 3 ? "WORD" : type == 4 ? "CHAR" : "unknown")
                                + "); only UNIGRAM (1) is implemented");
                    }
                }
                case 24 -> suffix = r.boolValue("treat_whitespace_as_suffix");
                case 35 -> {
                    if (r.boolValue("byte_fallback")) {
                        throw new SentencePieceFormatException(source
                                + ": trainer_spec.byte_fallback is true; byte fallback is not implemented");
                    }
                }
                default -> r.skip();
            }
        }
        return suffix;
    }

    private static NormalizerSpec parseNormalizer(ProtoReader r) {
        String name = "";
        byte[] charsmap = new byte[0];
        boolean dummyPrefix = true;
        boolean removeExtra = true;
        boolean escape = true;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.stringValue("name");
                case 2 -> charsmap = r.bytesValue("precompiled_charsmap");
                case 3 -> dummyPrefix = r.boolValue("add_dummy_prefix");
                case 4 -> removeExtra = r.boolValue("remove_extra_whitespaces");
                case 5 -> escape = r.boolValue("escape_whitespaces");
                default -> r.skip();
            }
        }
        return new NormalizerSpec(name, charsmap, dummyPrefix, removeExtra, escape);
    }

    public List<Piece> pieces() {
        return pieces;
    }

    public int size() {
        return pieces.size();
    }

    public NormalizerSpec normalizer() {
        return normalizer;
    }

    public boolean treatWhitespaceAsSuffix() {
        return treatWhitespaceAsSuffix;
    }

    public int unkId() {
        return unkId;
    }

    /** As sentencepiece's {@code PieceToId}: the piece's id, or the unknown id. */
    public int pieceToId(String piece) {
        Integer id = idByPiece.get(piece);
        return id != null ? id : unkId;
    }

    /** The id of {@code piece}, or -1 when it is not in the vocabulary. */
    public int idOf(String piece) {
        Integer id = idByPiece.get(piece);
        return id != null ? id : -1;
    }
}
