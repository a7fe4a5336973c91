package org.euterpe.pipeline.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonException;

/**
 * T5's tokenizer, as transformers' slow {@code T5Tokenizer} with {@code legacy=True} (4.35): the added tokens
 * ({@code <pad>}, {@code </s>}, {@code <unk>}, the 100 {@code <extra_id_N>}) are cut out of the text first,
 * each remaining chunk is normalised and segmented by the SentencePiece Unigram model, {@code </s>} is
 * appended unless the ids already end with it, then ids are truncated (keeping {@code </s>} last) and padded
 * with {@code <pad>} to the requested length.
 *
 * <p>The vocabulary comes from {@code spiece.model} (the protobuf), or, when a folder has only that, from a
 * {@code tokenizer.json} holding a Unigram model (mapped onto the same SentencePiece algorithm: its
 * {@code Precompiled} normaliser rules, its {@code Metaspace} prefix switch).
 */
public final class T5Tokenizer {
    public static final String SPIECE_FILE = "spiece.model";
    public static final String FAST_FILE = "tokenizer.json";
    public static final String CONFIG_FILE = "tokenizer_config.json";
    private static final int DEFAULT_EXTRA_IDS = 100;

    private final SentencePieceModel model;
    private final SentencePieceNormalizer normalizer;
    private final UnigramModel unigram;
    private final AddedTokenSplitter splitter;
    private final int vocabSize;
    private final int modelMaxLength;
    private final int padId;
    private final int eosId;

    private T5Tokenizer(SentencePieceModel model, Map<String, AddedToken> added, int vocabSize, int modelMaxLength,
            int padId, int eosId, String source) {
        this.model = model;
        List<String> userDefined = new ArrayList<>();
        for (SentencePieceModel.Piece p : model.pieces()) {
            if (p.type() == SentencePieceModel.PieceType.USER_DEFINED) {
                userDefined.add(p.piece());
            }
        }
        this.normalizer = new SentencePieceNormalizer(model.normalizer(), model.treatWhitespaceAsSuffix(), userDefined,
                source);
        this.unigram = new UnigramModel(model);
        this.splitter = new AddedTokenSplitter(added);
        this.vocabSize = vocabSize;
        this.modelMaxLength = modelMaxLength;
        this.padId = padId;
        this.eosId = eosId;
    }

    /**
     * Loads a tokenizer folder: {@value #SPIECE_FILE} (or else {@value #FAST_FILE}), with the optional
     * {@value #CONFIG_FILE}.
     *
     * @throws NoSuchFileException          when the folder has neither vocabulary file
     * @throws SentencePieceFormatException when the vocabulary file is malformed or unsupported
     */
    public static T5Tokenizer load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "tokenizer folder not found");
        }
        Path config = dir.resolve(CONFIG_FILE);
        String configJson = Files.isRegularFile(config) ? Files.readString(config) : null;
        Path spiece = dir.resolve(SPIECE_FILE);
        if (Files.isRegularFile(spiece)) {
            return fromSpieceModel(Files.readAllBytes(spiece), configJson, spiece.toString());
        }
        Path fast = dir.resolve(FAST_FILE);
        if (Files.isRegularFile(fast)) {
            return fromTokenizerJson(Files.readString(fast), configJson, fast.toString());
        }
        throw new NoSuchFileException(dir.toString(), null,
                "tokenizer folder has neither " + SPIECE_FILE + " nor " + FAST_FILE);
    }

    /**
     * A tokenizer from the bytes of a {@code spiece.model} and the text of {@code tokenizer_config.json}
     * (null: transformers' defaults, no length limit).
     */
    public static T5Tokenizer fromSpieceModel(byte[] spieceModel, String tokenizerConfigJson, String source) {
        SentencePieceModel model = SentencePieceModel.parse(spieceModel, source);
        return create(model, Map.of(), tokenizerConfigJson, source);
    }

    /** A tokenizer from the text of a Hugging Face {@code tokenizer.json} with a Unigram model. */
    public static T5Tokenizer fromTokenizerJson(String tokenizerJson, String tokenizerConfigJson, String source) {
        Map<String, Object> root = object(parse(tokenizerJson, source), source);
        Map<String, Object> m = object(root.get("model"), source + ": \"model\"");
        if (!"Unigram".equals(m.get("type"))) {
            throw new SentencePieceFormatException(source + ": model.type is " + m.get("type")
                    + "; only \"Unigram\" is implemented");
        }
        if (Boolean.TRUE.equals(m.get("byte_fallback"))) {
            throw new SentencePieceFormatException(source + ": model.byte_fallback is true; byte fallback is not"
                    + " implemented");
        }
        int unkId = m.get("unk_id") == null ? -1 : intValue(m.get("unk_id"), source + ": model.unk_id");
        List<Object> vocab = list(m.get("vocab"), source + ": model.vocab");
        Map<Integer, AddedToken> addedById = new LinkedHashMap<>();
        if (root.get("added_tokens") != null) {
            for (Object o : list(root.get("added_tokens"), source + ": added_tokens")) {
                AddedToken t = addedToken(object(o, source + ": added_tokens[]"), null, source + ": added_tokens[]");
                addedById.put(t.id(), t);
            }
        }
        List<SentencePieceModel.Piece> pieces = new ArrayList<>(vocab.size());
        for (int i = 0; i < vocab.size(); i++) {
            String what = source + ": model.vocab[" + i + "]";
            List<Object> entry = list(vocab.get(i), what);
            if (entry.size() != 2 || !(entry.get(0) instanceof String piece) || !(entry.get(1) instanceof Number score)) {
                throw new SentencePieceFormatException(what + ": expected [piece, score]");
            }
            AddedToken special = addedById.get(i);
            SentencePieceModel.PieceType type = i == unkId ? SentencePieceModel.PieceType.UNKNOWN
                    : special != null && special.special() ? SentencePieceModel.PieceType.CONTROL
                    : SentencePieceModel.PieceType.NORMAL;
            pieces.add(new SentencePieceModel.Piece(piece, score.floatValue(), type));
        }
        byte[] charsmap = new byte[0];
        boolean dummyPrefix = true;
        Object normalizer = root.get("normalizer");
        if (normalizer != null) {
            charsmap = precompiled(object(normalizer, source + ": normalizer"), source + ": normalizer");
        }
        Object pre = root.get("pre_tokenizer");
        if (pre != null) {
            dummyPrefix = metaspacePrefix(object(pre, source + ": pre_tokenizer"), source + ": pre_tokenizer");
        }
        SentencePieceModel model = new SentencePieceModel(pieces,
                new SentencePieceModel.NormalizerSpec("tokenizer.json", charsmap, dummyPrefix, true, true), false, source);
        Map<String, AddedToken> extra = new LinkedHashMap<>();
        for (AddedToken t : addedById.values()) {
            extra.put(t.content(), t);
        }
        return create(model, extra, tokenizerConfigJson, source);
    }

    private static T5Tokenizer create(SentencePieceModel model, Map<String, AddedToken> fromVocabFile,
            String configJson, String source) {
        String configName = source + " (" + CONFIG_FILE + ")";
        Map<String, Object> config = configJson == null ? Map.of() : object(parse(configJson, configName), configName);
        int extraIds = config.get("extra_ids") == null ? DEFAULT_EXTRA_IDS
                : intValue(config.get("extra_ids"), configName + ": extra_ids");
        int spSize = model.size();
        Map<String, AddedToken> added = new LinkedHashMap<>(fromVocabFile);
        if (config.get("added_tokens_decoder") != null) {
            for (Map.Entry<String, Object> e : object(config.get("added_tokens_decoder"), configName).entrySet()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new SentencePieceFormatException(configName + ": added_tokens_decoder key \"" + e.getKey()
                            + "\" is not an id");
                }
                AddedToken t = addedToken(object(e.getValue(), configName + ": added_tokens_decoder[" + id + "]"), id,
                        configName + ": added_tokens_decoder[" + id + "]");
                added.put(t.content(), t);
            }
        } else if (fromVocabFile.isEmpty()) {
            // transformers' defaults: the three specials as plain tokens, the sentinels from the top down.
            for (String role : List.of("pad_token", "eos_token", "unk_token")) {
                String content = roleContent(config.get(role), defaultRole(role), configName + ": " + role);
                int id = model.idOf(content);
                if (id >= 0) {
                    added.put(content, new AddedToken(content, id, false, false, false, true));
                }
            }
            for (int i = 0; i < extraIds; i++) {
                String content = "<extra_id_" + i + ">";
                added.put(content, new AddedToken(content, spSize + extraIds - 1 - i, true, true, true, true));
            }
        }
        int vocabSize = Math.max(spSize + (fromVocabFile.isEmpty() ? extraIds : 0),
                added.values().stream().mapToInt(t -> t.id() + 1).max().orElse(0));
        int pad = roleId(config.get("pad_token"), "<pad>", model, added, configName + ": pad_token");
        int eos = roleId(config.get("eos_token"), "</s>", model, added, configName + ": eos_token");
        int maxLength = parseModelMaxLength(config.get("model_max_length"), configName);
        return new T5Tokenizer(model, added, vocabSize, maxLength, pad, eos, source);
    }

    // ------------------------------------------------------------------ encoding

    /** The token strings of {@code text}, as {@code tokenizer.tokenize(text)} (no {@code </s>}). */
    public List<String> tokenize(String text) {
        checkText(text);
        List<String> out = new ArrayList<>();
        for (String chunk : splitter.split(text)) {
            if (splitter.tokenFor(chunk) != null) {
                out.add(chunk);
                continue;
            }
            byte[] normalized = normalizer.normalize(chunk.getBytes(StandardCharsets.UTF_8));
            for (UnigramModel.Segment s : unigram.encode(normalized)) {
                out.add(s.piece());
            }
        }
        return out;
    }

    /** The id of one token string: an added token's id, else the SentencePiece id (unknown: {@code <unk>}). */
    public int tokenToId(String token) {
        AddedToken t = splitter.tokenFor(token);
        return t != null ? t.id() : model.pieceToId(token);
    }

    /** The ids of {@code text} without {@code </s>}. */
    public int[] tokenIds(String text) {
        List<String> tokens = tokenize(text);
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokenToId(tokens.get(i));
        }
        return ids;
    }

    /**
     * {@code tokenizer(text, padding="max_length" if padToMax, max_length=maxLength, truncation=truncate)}.
     *
     * @throws IllegalArgumentException when {@code maxLength < 1} or the text has an unpaired surrogate
     */
    public Encoding encode(String text, int maxLength, boolean padToMax, boolean truncate) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("maxLength must be at least 1, got " + maxLength);
        }
        int[] ids = tokenIds(text);
        int remove = truncate ? ids.length + 1 - maxLength : 0;
        boolean truncated = remove > 0;
        if (truncated) {
            ids = Arrays.copyOf(ids, ids.length - remove);
        }
        int[] withEos = addEosIfNotPresent(ids);
        int length = padToMax ? Math.max(maxLength, withEos.length) : withEos.length;
        long[] outIds = new long[length];
        long[] mask = new long[length];
        Arrays.fill(outIds, padId);
        for (int i = 0; i < withEos.length; i++) {
            outIds[i] = withEos[i];
            mask[i] = 1;
        }
        return new Encoding(outIds, mask, truncated);
    }

    /** {@code tokenizer(text, padding="longest")} of one text: the ids and {@code </s>}, nothing cut. */
    public Encoding encodeUntruncated(String text) {
        int[] withEos = addEosIfNotPresent(tokenIds(text));
        long[] ids = new long[withEos.length];
        long[] mask = new long[withEos.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = withEos[i];
            mask[i] = 1;
        }
        return new Encoding(ids, mask, false);
    }

    private int[] addEosIfNotPresent(int[] ids) {
        if (ids.length > 0 && ids[ids.length - 1] == eosId) {
            return ids;
        }
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eosId;
        return out;
    }

    // ------------------------------------------------------------------ properties

    /** {@code model_max_length} of the config; {@link Integer#MAX_VALUE} when it sets no limit. */
    public int modelMaxLength() {
        return modelMaxLength;
    }

    /** The SentencePiece vocabulary plus the sentinel tokens, as transformers' {@code vocab_size}. */
    public int vocabSize() {
        return vocabSize;
    }

    public int padTokenId() {
        return padId;
    }

    public int eosTokenId() {
        return eosId;
    }

    public int unkTokenId() {
        return model.unkId();
    }

    // ------------------------------------------------------------------ config helpers

    private static String defaultRole(String role) {
        return switch (role) {
            case "pad_token" -> "<pad>";
            case "eos_token" -> "</s>";
            default -> "<unk>";
        };
    }

    private static String roleContent(Object value, String dflt, String what) {
        if (value == null) {
            return dflt;
        }
        if (value instanceof String s) {
            return s;
        }
        Map<String, Object> m = object(value, what);
        if (m.get("content") instanceof String s) {
            return s;
        }
        throw new SentencePieceFormatException(what + ": expected a string or a token object");
    }

    private static int roleId(Object value, String dflt, SentencePieceModel model, Map<String, AddedToken> added,
            String what) {
        String content = roleContent(value, dflt, what);
        AddedToken t = added.get(content);
        if (t != null) {
            return t.id();
        }
        int id = model.idOf(content);
        if (id < 0) {
            throw new SentencePieceFormatException(what + ": \"" + content + "\" is not in the vocabulary");
        }
        return id;
    }

    private static AddedToken addedToken(Map<String, Object> m, Integer id, String what) {
        if (!(m.get("content") instanceof String content) || content.isEmpty()) {
            throw new SentencePieceFormatException(what + ": missing \"content\"");
        }
        int tokenId = id != null ? id : intValue(m.get("id"), what + ": id");
        return new AddedToken(content, tokenId, bool(m, "lstrip", what), bool(m, "rstrip", what),
                bool(m, "single_word", what), bool(m, "special", what));
    }

    private static boolean bool(Map<String, Object> m, String key, String what) {
        Object v = m.get(key);
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw new SentencePieceFormatException(what + ": \"" + key + "\" should be true or false, got " + v);
        }
        return b;
    }

    /** The base64 {@code precompiled_charsmap} of a {@code Precompiled} normaliser (alone or in a sequence). */
    private static byte[] precompiled(Map<String, Object> n, String what) {
        Object type = n.get("type");
        if ("Precompiled".equals(type)) {
            Object map = n.get("precompiled_charsmap");
            if (map == null) {
                return new byte[0];
            }
            if (!(map instanceof String s)) {
                throw new SentencePieceFormatException(what + ": precompiled_charsmap should be base64 text");
            }
            try {
                return Base64.getDecoder().decode(s);
            } catch (IllegalArgumentException e) {
                throw new SentencePieceFormatException(what + ": precompiled_charsmap is not base64: " + e.getMessage());
            }
        }
        if ("Sequence".equals(type)) {
            byte[] found = new byte[0];
            for (Object o : list(n.get("normalizers"), what + ".normalizers")) {
                byte[] b = precompiled(object(o, what + ".normalizers[]"), what + ".normalizers[]");
                if (b.length > 0) {
                    found = b;
                }
            }
            return found;
        }
        if ("Replace".equals(type) || "Strip".equals(type)) {
            // The T5 converter's " {2,}" -> " " replace: SentencePiece's remove_extra_whitespaces does this.
            return new byte[0];
        }
        throw new SentencePieceFormatException(what + ": normalizer type " + type + " is not implemented"
                + " (Precompiled, Sequence, Replace and Strip are)");
    }

    /** Whether a {@code Metaspace} pre-tokenizer prepends {@code ▁} (SentencePiece's add_dummy_prefix). */
    private static boolean metaspacePrefix(Map<String, Object> p, String what) {
        Object type = p.get("type");
        if ("Metaspace".equals(type)) {
            Object scheme = p.get("prepend_scheme");
            if (scheme != null) {
                if (!(scheme instanceof String s) || !List.of("always", "first", "never").contains(s)) {
                    throw new SentencePieceFormatException(what + ": prepend_scheme " + scheme + " is not known");
                }
                return !"never".equals(scheme);
            }
            Object add = p.get("add_prefix_space");
            return add == null || Boolean.TRUE.equals(add);
        }
        if ("Sequence".equals(type)) {
            boolean prefix = true;
            for (Object o : list(p.get("pretokenizers"), what + ".pretokenizers")) {
                prefix = metaspacePrefix(object(o, what + ".pretokenizers[]"), what + ".pretokenizers[]");
            }
            return prefix;
        }
        if ("WhitespaceSplit".equals(type)) {
            return true;
        }
        throw new SentencePieceFormatException(what + ": pre-tokenizer type " + type + " is not implemented"
                + " (Metaspace, WhitespaceSplit and Sequence are)");
    }

    private static Object parse(String text, String source) {
        try {
            return Json.parse(text);
        } catch (JsonException e) {
            throw new SentencePieceFormatException(source + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object v, String what) {
        if (!(v instanceof Map)) {
            throw new SentencePieceFormatException(what + ": expected a JSON object");
        }
        return (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object v, String what) {
        if (!(v instanceof List)) {
            throw new SentencePieceFormatException(what + ": expected a JSON array");
        }
        return (List<Object>) v;
    }

    private static int intValue(Object v, String what) {
        if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.doubleValue() < 0
                || n.doubleValue() > Integer.MAX_VALUE) {
            throw new SentencePieceFormatException(what + ": expected a non-negative integer, got " + v);
        }
        return n.intValue();
    }

    private static int parseModelMaxLength(Object v, String source) {
        if (v == null) {
            return Integer.MAX_VALUE;
        }
        if (!(v instanceof Number n) || n.doubleValue() < 1 || n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new SentencePieceFormatException(source + ": model_max_length should be a positive integer, got " + v);
        }
        return n.doubleValue() >= Integer.MAX_VALUE ? Integer.MAX_VALUE : n.intValue();
    }

    private static void checkText(String text) {
        Objects.requireNonNull(text, "text");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("text has an unpaired surrogate U+"
                        + String.format("%04X", (int) c) + " at index " + i + "; it cannot be encoded as UTF-8");
            }
        }
    }
}
