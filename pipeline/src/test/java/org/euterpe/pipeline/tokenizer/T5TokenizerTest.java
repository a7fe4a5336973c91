package org.euterpe.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** T5Tokenizer behaviour beyond the golden prompts: sentinels, defaults, the charsmap, bad files. */
class T5TokenizerTest {
    private static final String SEEDS = "T5TokenizerFuzzTestInputs/parseModel/";

    private static byte[] seed(String name) throws IOException {
        try (InputStream in = T5TokenizerTest.class.getResourceAsStream(SEEDS + name)) {
            return in.readAllBytes();
        }
    }

    private static T5Tokenizer tiny() throws IOException {
        return T5Tokenizer.load(TestData.conformanceCase("tiny-stable-audio").resolve("tokenizer"));
    }

    @Test
    void sentinelsAreCutOutWithTheirWhitespace() throws IOException {
        T5Tokenizer t = tiny();
        // <extra_id_0> is 699 in the tiny model (600 pieces + 100 sentinels, counted from the top).
        assertEquals(699, t.tokenToId("<extra_id_0>"));
        assertEquals(600, t.tokenToId("<extra_id_99>"));
        List<String> tokens = t.tokenize("a <extra_id_0> b");
        assertEquals(List.of("\u2581a", "<extra_id_0>", "\u2581b"), tokens);
        // Glued to a word, a single_word sentinel is plain text.
        assertTrue(t.tokenize("a<extra_id_0>").stream().noneMatch(s -> s.equals("<extra_id_0>")));
    }

    @Test
    void explicitEosIsNotDoubled() throws IOException {
        T5Tokenizer t = tiny();
        long[] ids = t.encodeUntruncated("a </s>").inputIds();
        assertEquals(1, ids[ids.length - 1]);
        assertTrue(ids[ids.length - 2] != 1, "one </s> only: " + java.util.Arrays.toString(ids));
    }

    @Test
    void truncationKeepsEosLast() throws IOException {
        T5Tokenizer t = tiny();
        Encoding e = t.encode("the quick brown fox jumps over the lazy dog", 5, true, true);
        assertTrue(e.truncated());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1}, e.attentionMask());
        assertEquals(1, e.inputIds()[4]);
        assertThrows(IllegalArgumentException.class, () -> t.encode("x", 0, true, true));
    }

    @Test
    void defaultsWithoutAddedTokensDecoderMatchTheConfiguredTokenizer() throws IOException {
        // The real stable-audio-open-1.0 tokenizer_config.json lists no added_tokens_decoder: transformers'
        // defaults (100 sentinels from the top, single_word/lstrip/rstrip) must give the same ids.
        Path dir = TestData.conformanceCase("tiny-stable-audio").resolve("tokenizer");
        T5Tokenizer plain = T5Tokenizer.fromSpieceModel(Files.readAllBytes(dir.resolve("spiece.model")),
                "{\"model_max_length\": 32, \"extra_ids\": 100, \"eos_token\": \"</s>\", \"unk_token\": \"<unk>\","
                        + " \"pad_token\": \"<pad>\", \"legacy\": true}", "spiece.model");
        T5Tokenizer configured = tiny();
        assertEquals(configured.vocabSize(), plain.vocabSize());
        for (String text : List.of("x <extra_id_7> y", "Caf\u00e9 </s> <pad>", "plain words, 90 bpm", "<extra_id_99>")) {
            assertEquals(configured.encode(text, 32, true, true), plain.encode(text, 32, true, true), text);
        }
    }

    @Test
    void handBuiltCharsmapRulesApplyLongestFirst() {
        // small-valid: rules A -> a, AB -> ab, TAB -> space; pieces include ab, ▁a, ▁ab; xyz user-defined.
        T5Tokenizer t;
        try {
            t = T5Tokenizer.fromSpieceModel(seed("small-valid"), null, "small-valid");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        // "AB" -> "ab" by the longer rule (not "a"+"B"); tab -> space, runs of spaces collapse.
        assertEquals(List.of("\u2581ab"), t.tokenize("AB"));
        assertEquals(t.tokenize("a\tb"), t.tokenize("a  b"));
        // A character no piece covers becomes <unk>; a run of them merges into one.
        assertEquals(List.of("\u2581", "\u00e9\u00e8", "\u2581a"), t.tokenize("\u00e9\u00e8 a"));
        assertArrayEquals(new int[] {3, 2, 6}, t.tokenIds("\u00e9\u00e8 a"));
        // User-defined symbols win over the scores; unused pieces are never produced.
        assertTrue(t.tokenize("axyzq").contains("xyz"));
        // "q" is UNUSED: Viterbi treats it as unknown, and transformers then maps the surface back through
        // piece_to_id, which does know the unused piece (id 11).
        assertEquals(List.of("\u2581", "q"), t.tokenize("q"));
        assertArrayEquals(new int[] {3, 11}, t.tokenIds("q"));
    }

    @Test
    void badModelsNameTheProblem() throws IOException {
        assertMessage("bpe-model-type", "model_type");
        assertMessage("byte-fallback", "byte_fallback");
        assertMessage("no-unk", "UNKNOWN");
        assertMessage("duplicate-piece", "already defined");
        assertMessage("charsmap-trie-too-large", "precompiled_charsmap");
        assertMessage("truncated", "fuzz");
        assertMessage("huge-length", "runs past the end");
        assertMessage("group-wire-type", "wire type");
        assertMessage("empty", "no pieces");
        T5Tokenizer broken = T5Tokenizer.fromSpieceModel(seed("charsmap-value-past-pool"), null, "x");
        SentencePieceFormatException e = assertThrows(SentencePieceFormatException.class, () -> broken.tokenize("AB"));
        assertTrue(e.getMessage().contains("pool"), e.getMessage());
    }

    private static void assertMessage(String seed, String part) throws IOException {
        byte[] b = seed(seed);
        SentencePieceFormatException e = assertThrows(SentencePieceFormatException.class,
                () -> T5Tokenizer.fromSpieceModel(b, null, "fuzz.model"), seed);
        assertTrue(e.getMessage().contains(part), seed + ": " + e.getMessage());
    }

    @Test
    void folderWithNeitherFileIsRefused(@TempDir Path dir) throws IOException {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> T5Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("spiece.model"), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}");
        SentencePieceFormatException bpe = assertThrows(SentencePieceFormatException.class, () -> T5Tokenizer.load(dir));
        assertTrue(bpe.getMessage().contains("Unigram"), bpe.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "not json");
        assertThrows(SentencePieceFormatException.class, () -> T5Tokenizer.load(dir));
    }
}
