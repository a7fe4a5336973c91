package org.euterpe.pipeline.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonException;

/**
 * The byte-level BPE tokenizer of RoBERTa / GPT-2, with the results of transformers' slow
 * {@code RobertaTokenizer} (4.35): the one CLAP's text encoder uses in AudioLDM and MusicLDM.
 *
 * <p>Tokenising a text: added tokens ({@code <s>}, {@code <mask>}, ...) are cut out first with their
 * whitespace rules ({@link AddedTokenSplitter}); the rest is split into words by GPT-2's pattern
 * ({@link PreTokenizer}); each word's UTF-8 bytes are shown as characters ({@link ByteUnicode}) and
 * merged by BPE ({@link BpeMerges}). Encoding wraps the ids as {@code <s> ... </s>}, truncates and
 * pads.
 *
 * <p>Immutable and thread-safe.
 */
public final class BpeTokenizer {
    public static final String VOCAB_FILE = "vocab.json";
    public static final String MERGES_FILE = "merges.txt";
    public static final String CONFIG_FILE = "tokenizer_config.json";
    public static final String SPECIAL_TOKENS_FILE = "special_tokens_map.json";
    /** Older format for added tokens; none of the supported checkpoints has one. */
    private static final String LEGACY_ADDED_TOKENS_FILE = "added_tokens.json";

    /** The special-token roles of a RoBERTa tokenizer and their default contents. */
    private static final String[][] ROLES = {
        {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"sep_token", "</s>"},
        {"pad_token", "<pad>"}, {"cls_token", "<s>"}, {"mask_token", "<mask>"},
    };

    private final Map<String, Integer> vocab;
    private final Map<Integer, String> idToToken;
    private final BpeMerges merges;
    private final AddedTokenSplitter splitter;
    private final Map<Integer, AddedToken> addedById;
    private final int unkId;
    private final int clsId;
    private final int sepId;
    private final int padId;
    private final int modelMaxLength;
    private final boolean addPrefixSpace;

    private BpeTokenizer(Map<String, Integer> vocab, BpeMerges merges, Map<String, AddedToken> added,
            Map<String, Integer> roleIds, int modelMaxLength, boolean addPrefixSpace) {
        this.vocab = vocab;
        this.idToToken = new HashMap<>(vocab.size() * 2);
        vocab.forEach((token, id) -> idToToken.put(id, token));
        this.merges = merges;
        this.splitter = new AddedTokenSplitter(added);
        this.addedById = new HashMap<>();
        added.values().forEach(t -> addedById.put(t.id(), t));
        this.unkId = roleIds.get("unk_token");
        this.clsId = roleIds.get("cls_token");
        this.sepId = roleIds.get("sep_token");
        this.padId = roleIds.get("pad_token");
        this.modelMaxLength = modelMaxLength;
        this.addPrefixSpace = addPrefixSpace;
    }

    // ------------------------------------------------------------------ construction

    /**
     * Loads a tokenizer folder as saved by transformers: {@value #VOCAB_FILE}, {@value #MERGES_FILE} and
     * {@value #CONFIG_FILE} are required, {@value #SPECIAL_TOKENS_FILE} is optional.
     *
     * @throws NoSuchFileException naming the missing file
     */
    public static BpeTokenizer load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "tokenizer folder not found");
        }
        if (Files.exists(dir.resolve(LEGACY_ADDED_TOKENS_FILE))) {
            throw new IllegalArgumentException(dir.resolve(LEGACY_ADDED_TOKENS_FILE)
                    + ": added_tokens.json is not supported (declare added tokens in tokenizer_config.json)");
        }
        Path special = dir.resolve(SPECIAL_TOKENS_FILE);
        return create(
                readRequired(dir.resolve(VOCAB_FILE)),
                readRequired(dir.resolve(MERGES_FILE)),
                readRequired(dir.resolve(CONFIG_FILE)),
                Files.isRegularFile(special) ? Files.readString(special) : null,
                dir.toString());
    }

    /**
     * Builds a tokenizer from the texts of its files (for tokenizers embedded in a weights file).
     *
     * @param specialTokensMapJson may be null
     */
    public static BpeTokenizer fromStrings(String vocabJson, String mergesText, String tokenizerConfigJson,
            String specialTokensMapJson) {
        return create(Objects.requireNonNull(vocabJson, "vocabJson"), Objects.requireNonNull(mergesText, "mergesText"),
                Objects.requireNonNull(tokenizerConfigJson, "tokenizerConfigJson"), specialTokensMapJson,
                "<in-memory>");
    }

    private static String readRequired(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "tokenizer file missing");
        }
        return Files.readString(file);
    }

    private static BpeTokenizer create(String vocabJson, String mergesText, String configJson,
            String specialTokensMapJson, String where) {
        Map<String, Integer> vocab = parseVocab(parseJsonObject(vocabJson, where + "/" + VOCAB_FILE),
                where + "/" + VOCAB_FILE);
        BpeMerges merges = BpeMerges.parse(mergesText, where + "/" + MERGES_FILE);
        String configName = where + "/" + CONFIG_FILE;
        Map<String, Object> config = parseJsonObject(configJson, configName);
        Map<String, Object> specialMap = specialTokensMapJson == null ? Map.of()
                : parseJsonObject(specialTokensMapJson, where + "/" + SPECIAL_TOKENS_FILE);

        // Explicitly declared added tokens win; the roles' tokens fill in the rest with ids from the vocabulary.
        Map<String, AddedToken> added = new LinkedHashMap<>();
        if (config.get("added_tokens_decoder") != null) {
            for (Map.Entry<String, Object> e : asMap(config.get("added_tokens_decoder"),
                    configName + ": added_tokens_decoder").entrySet()) {
                AddedToken t = parseAddedTokenEntry(e.getKey(), e.getValue(), configName);
                added.put(t.content(), t);
            }
        }
        Map<String, Integer> roleIds = new HashMap<>();
        for (String[] role : ROLES) {
            Object value = specialMap.containsKey(role[0]) ? specialMap.get(role[0])
                    : config.containsKey(role[0]) ? config.get(role[0]) : role[1];
            if (value == null) {
                continue;
            }
            // RobertaTokenizer's own defaults: <mask> takes the space before it, like a word would.
            AddedToken t = roleToken(value, role[0].equals("mask_token"), vocab, added, where + ": " + role[0]);
            added.putIfAbsent(t.content(), t);
            roleIds.put(role[0], t.id());
        }
        Object additional = specialMap.containsKey("additional_special_tokens")
                ? specialMap.get("additional_special_tokens") : config.get("additional_special_tokens");
        if (additional != null) {
            if (!(additional instanceof List<?> list)) {
                throw new IllegalArgumentException(where + ": additional_special_tokens should be a list");
            }
            for (Object value : list) {
                AddedToken t = roleToken(value, false, vocab, added, where + ": additional_special_tokens");
                added.putIfAbsent(t.content(), t);
            }
        }
        for (String required : new String[] {"unk_token", "cls_token", "sep_token", "pad_token"}) {
            if (!roleIds.containsKey(required)) {
                throw new IllegalArgumentException(configName + ": " + required + " is null; RoBERTa encoding needs it");
            }
        }
        return new BpeTokenizer(vocab, merges, added, roleIds, parseModelMaxLength(config.get("model_max_length"),
                configName), optBoolean(config, "add_prefix_space", false, configName));
    }

    private static Map<String, Object> parseJsonObject(String text, String source) {
        try {
            return asMap(Json.parse(text), source);
        } catch (JsonException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value, String what) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException(what + ": expected a JSON object");
        }
        return (Map<String, Object>) value;
    }

    private static Map<String, Integer> parseVocab(Map<String, Object> json, String source) {
        Map<String, Integer> vocab = new HashMap<>(json.size() * 2);
        for (Map.Entry<String, Object> e : json.entrySet()) {
            vocab.put(e.getKey(), toId(e.getValue(), source + ": token \"" + e.getKey() + "\""));
        }
        if (vocab.isEmpty()) {
            throw new IllegalArgumentException(source + ": the vocabulary is empty");
        }
        return vocab;
    }

    private static int toId(Object value, String what) {
        if (!(value instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + ": expected a non-negative integer id, got " + value);
        }
        return (int) (long) l;
    }

    private static AddedToken parseAddedTokenEntry(String key, Object value, String source) {
        int id;
        try {
            id = Integer.parseInt(key);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": added_tokens_decoder key \"" + key + "\" is not an id");
        }
        String what = source + ": added_tokens_decoder[" + key + "]";
        Map<String, Object> m = asMap(value, what);
        if (!(m.get("content") instanceof String content) || content.isEmpty()) {
            throw new IllegalArgumentException(what + ": missing \"content\"");
        }
        return new AddedToken(content, id, optBoolean(m, "lstrip", false, what), optBoolean(m, "rstrip", false, what),
                optBoolean(m, "single_word", false, what), optBoolean(m, "special", false, what));
    }

    /**
     * A special token given as a plain string (default stripping) or as an AddedToken object. When its
     * content is already an added token, that one is returned unchanged.
     */
    private static AddedToken roleToken(Object value, boolean lstripByDefault, Map<String, Integer> vocab,
            Map<String, AddedToken> added, String what) {
        String content;
        boolean lstrip = lstripByDefault;
        boolean rstrip = false;
        boolean singleWord = false;
        if (value instanceof String s) {
            content = s;
        } else if (value instanceof Map<?, ?>) {
            Map<String, Object> m = asMap(value, what);
            if (!(m.get("content") instanceof String s)) {
                throw new IllegalArgumentException(what + ": missing \"content\"");
            }
            content = s;
            lstrip = optBoolean(m, "lstrip", false, what);
            rstrip = optBoolean(m, "rstrip", false, what);
            singleWord = optBoolean(m, "single_word", false, what);
        } else {
            throw new IllegalArgumentException(what + ": expected a string or a token object, got " + value);
        }
        if (content.isEmpty()) {
            throw new IllegalArgumentException(what + ": empty token");
        }
        AddedToken known = added.get(content);
        if (known != null) {
            return known;
        }
        Integer id = vocab.get(content);
        if (id == null) {
            throw new IllegalArgumentException(what + ": \"" + content
                    + "\" is neither in the vocabulary nor in added_tokens_decoder");
        }
        return new AddedToken(content, id, lstrip, rstrip, singleWord, true);
    }

    private static boolean optBoolean(Map<String, Object> m, String key, boolean dflt, String what) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException(what + ": \"" + key + "\" should be true or false, got " + v);
        }
        return b;
    }

    /** transformers writes "no limit" as a huge integer (int(1e30)); that and absence become Integer.MAX_VALUE. */
    private static int parseModelMaxLength(Object v, String source) {
        if (v == null) {
            return Integer.MAX_VALUE;
        }
        if (!(v instanceof Number n) || n.doubleValue() < 1 || n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new IllegalArgumentException(source + ": model_max_length should be a positive integer, got " + v);
        }
        return n.doubleValue() >= Integer.MAX_VALUE ? Integer.MAX_VALUE : n.intValue();
    }

    // ------------------------------------------------------------------ properties

    /** {@code model_max_length} of the config; {@link Integer#MAX_VALUE} when it sets no limit. */
    public int modelMaxLength() {
        return modelMaxLength;
    }

    /** Size of the base vocabulary (vocab.json), without added tokens, as transformers' {@code vocab_size}. */
    public int vocabSize() {
        return vocab.size();
    }

    public int padTokenId() {
        return padId;
    }

    /** The id of {@code <s>} that starts every encoding (RoBERTa's cls token). */
    public int clsTokenId() {
        return clsId;
    }

    /** The id of {@code </s>} that ends every encoding (RoBERTa's sep token). */
    public int sepTokenId() {
        return sepId;
    }

    // ------------------------------------------------------------------ tokenising

    /**
     * The token strings of {@code text} without {@code <s>}/{@code </s>}, as transformers'
     * {@code tokenizer.tokenize(text)}: byte-level BPE pieces ({@code Ġ} marks a leading space) and
     * added tokens found in the text.
     *
     * @throws IllegalArgumentException if the text holds an unpaired surrogate (it has no UTF-8 form)
     */
    public List<String> tokenize(String text) {
        checkText(text);
        if (addPrefixSpace && !text.isEmpty() && !PreTokenizer.isPythonSpace(text.codePointAt(0))) {
            text = " " + text;
        }
        List<String> tokens = new ArrayList<>();
        for (String piece : splitter.split(text)) {
            if (splitter.tokenFor(piece) != null) {
                tokens.add(piece);
                continue;
            }
            for (String word : PreTokenizer.split(piece)) {
                tokens.addAll(merges.apply(ByteUnicode.encode(word)));
            }
        }
        return tokens;
    }

    /** The id of a token string: an added token's id, else its vocabulary id, else the id of {@code <unk>}. */
    public int tokenToId(String token) {
        AddedToken t = splitter.tokenFor(token);
        if (t != null) {
            return t.id();
        }
        return vocab.getOrDefault(token, unkId);
    }

    /** The ids of {@link #tokenize}'s tokens (no {@code <s>}/{@code </s>}). */
    public int[] tokenIds(String text) {
        List<String> tokens = tokenize(text);
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokenToId(tokens.get(i));
        }
        return ids;
    }

    /**
     * Encodes one text as transformers' {@code tokenizer(text, max_length=maxLength,
     * padding="max_length" if padToMax, truncation=truncate)}: {@code <s> ids </s>}, with the ids cut to
     * {@code maxLength - 2} when truncating (so {@code </s>} stays last), then {@code <pad>} up to
     * {@code maxLength} when padding. An encoding longer than {@code maxLength} (no truncation) is not
     * padded.
     *
     * @param maxLength the pipeline passes {@link #modelMaxLength()} for prompts; diffusers' unconditional
     *                  and negative prompts use the text projection's width instead
     */
    public Encoding encode(String text, int maxLength, boolean padToMax, boolean truncate) {
        if (truncate && maxLength < 2) {
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for <s> and </s>");
        }
        if (maxLength < 0) {
            throw new IllegalArgumentException("negative maxLength " + maxLength);
        }
        if (padToMax && maxLength == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot pad to an unlimited length (model_max_length is not set)");
        }
        int[] ids = tokenIds(text);
        int kept = ids.length;
        boolean truncated = false;
        if (truncate && kept > maxLength - 2) {
            kept = maxLength - 2;
            truncated = true;
        }
        int real = kept + 2;
        int length = padToMax ? Math.max(real, maxLength) : real;
        long[] inputIds = new long[length];
        long[] mask = new long[length];
        inputIds[0] = clsId;
        for (int i = 0; i < kept; i++) {
            inputIds[1 + i] = ids[i];
        }
        inputIds[real - 1] = sepId;
        Arrays.fill(mask, 0, real, 1L);
        Arrays.fill(inputIds, real, length, padId);
        return new Encoding(inputIds, mask, truncated);
    }

    /** {@code <s> ids </s>} without truncation or padding (transformers' {@code padding="longest"} for one text). */
    public Encoding encodeUntruncated(String text) {
        return encode(text, 0, false, false);
    }

    // ------------------------------------------------------------------ decoding

    /**
     * Turns ids back into text as transformers' {@code decode(ids, skip_special_tokens=True,
     * clean_up_tokenization_spaces=False)}: special tokens are dropped, BPE pieces are joined and their
     * bytes decoded as UTF-8 (invalid sequences become U+FFFD), and other added tokens are separated by
     * single spaces. For text without added tokens, {@code decode(tokenIds(text))} returns the text.
     *
     * @throws IllegalArgumentException for an id that is in neither the vocabulary nor the added tokens
     */
    public String decode(long[] ids) {
        List<String> segments = new ArrayList<>();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (long id : ids) {
            AddedToken added = id >= 0 && id <= Integer.MAX_VALUE ? addedById.get((int) id) : null;
            if (added != null && added.special()) {
                continue;
            }
            if (added != null) {
                flushBytes(bytes, segments);
                segments.add(added.content());
                continue;
            }
            String token = id >= 0 && id <= Integer.MAX_VALUE ? idToToken.get((int) id) : null;
            if (token == null) {
                throw new IllegalArgumentException("id " + id + " is not in the vocabulary");
            }
            ByteUnicode.decodeInto(token, bytes);
        }
        flushBytes(bytes, segments);
        return String.join(" ", segments);
    }

    private static void flushBytes(ByteArrayOutputStream bytes, List<String> segments) {
        if (bytes.size() == 0) {
            return;
        }
        try {
            segments.add(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString());
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("UTF-8 decoding with replacement cannot fail", e);
        }
        bytes.reset();
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
