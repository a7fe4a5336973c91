package org.euterpe.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Behaviour beyond the goldens, on the in-repo tiny-audioldm tokenizer (RoBERTa's real vocabulary and
 * merges): added tokens in the text, truncation and padding, decoding, long inputs and bad input.
 */
class BpeTokenizerTest {
    private static Path dir;
    private static BpeTokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        dir = TestData.conformanceCase("tiny-audioldm").resolve("tokenizer");
        tok = BpeTokenizer.load(dir);
    }

    @Test
    void knownRobertaIds() {
        // roberta-base: tokenizer("Hello world").input_ids == [0, 31414, 232, 2]
        assertArrayEquals(new long[] {0, 31414, 232, 2}, tok.encodeUntruncated("Hello world").inputIds());
    }

    @Test
    void specialTokensInTheTextAreKeptWhole() {
        // <mask> is lstrip: it takes the space before it; <s> and </s> strip nothing.
        assertEquals(List.of("Hello", "<mask>", "Ġworld"), tok.tokenize("Hello <mask> world"));
        assertArrayEquals(new long[] {0, 31414, 50264, 232, 2}, tok.encodeUntruncated("Hello   <mask> world").inputIds());
        assertEquals(List.of("a", "Ġ", "<s>", "b", "</s>", "<pad>"), tok.tokenize("a <s>b</s><pad>"));
        assertEquals(List.of("<", "s"), tok.tokenize("<s"));
    }

    @Test
    void truncatesKeepingEndTokenAndPads() {
        String text = "the quick brown fox jumps over the lazy dog";
        long[] full = tok.encodeUntruncated(text).inputIds();
        assertEquals(11, full.length);

        Encoding cut = tok.encode(text, 6, true, true);
        assertTrue(cut.truncated());
        assertArrayEquals(new long[] {full[0], full[1], full[2], full[3], full[4], 2}, cut.inputIds());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1}, cut.attentionMask());

        Encoding padded = tok.encode(text, 14, true, true);
        assertFalse(padded.truncated());
        long[] expected = Arrays.copyOf(full, 14);
        Arrays.fill(expected, 11, 14, 1);
        assertArrayEquals(expected, padded.inputIds());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, padded.attentionMask());

        // Without truncation a longer text is neither cut nor padded; without padding nothing is added.
        assertArrayEquals(full, tok.encode(text, 6, true, false).inputIds());
        assertArrayEquals(full, tok.encode(text, 77, false, true).inputIds());
        // The empty (unconditional) prompt at the projection width, as diffusers encodes it.
        Encoding empty = tok.encode("", 32, true, true);
        assertEquals(32, empty.length());
        assertArrayEquals(new long[] {0, 2, 1}, Arrays.copyOf(empty.inputIds(), 3));
        assertEquals(2, Arrays.stream(empty.attentionMask()).sum());
    }

    @Test
    void decodeInvertsEncode() {
        for (String text : new String[] {"", "Hello, world!", "café — naïve 🎵👍🏽🇫🇷", "  tabs\tand\nnew\r\nlines  ",
            "日本語のテキスト", "\u0000\u001f\u0085\u00a0x", "don't 'S 's 100% $5.99"}) {
            assertEquals(text, tok.decode(tok.encode(text, 77, true, true).inputIds()), text);
        }
    }

    @Test
    void decodeReplacesBrokenUtf8() {
        // "ðŁ" is the first two bytes of a 4-byte emoji: alone they are malformed UTF-8.
        long id = tok.tokenToId("ðŁ");
        assertTrue(id > 3);
        assertEquals("\ufffd", tok.decode(new long[] {id}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new long[] {999_999}));
    }

    @Test
    void hundredThousandCharacterPrompts() {
        for (String unit : new String[] {"the quick brown fox ", "a", " ", "🎵", "日本語", "<mask> ", "ab!?"}) {
            String text = unit.repeat(Math.max(1, 100_000 / unit.length()));
            Encoding e = tok.encodeUntruncated(text);
            assertTrue(e.length() > 2, unit);
            Encoding cut = tok.encode(text, 77, true, true);
            assertArrayEquals(Arrays.copyOf(e.inputIds(), 76), Arrays.copyOf(cut.inputIds(), 76), unit);
            assertEquals(2, cut.inputIds()[76], unit);
            if (!unit.contains("<")) {
                assertEquals(text, tok.decode(e.inputIds()), unit);
            }
        }
    }

    @Test
    void addPrefixSpaceOption() throws IOException {
        String config = Files.readString(dir.resolve("tokenizer_config.json"))
                .replace("\"add_prefix_space\": false", "\"add_prefix_space\": true");
        BpeTokenizer prefixed = BpeTokenizer.fromStrings(Files.readString(dir.resolve("vocab.json")),
                Files.readString(dir.resolve("merges.txt")), config, null);
        assertEquals(List.of("ĠHello", "Ġworld"), prefixed.tokenize("Hello world"));
        assertEquals(List.of("Ġ", "ĠHello"), prefixed.tokenize("  Hello"));
        assertEquals(77, prefixed.modelMaxLength());
    }

    @Test
    void badInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.tokenize("a\ud83cb"));
        assertTrue(e.getMessage().contains("unpaired surrogate"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.encode("x", 1, true, true));
        assertThrows(NullPointerException.class, () -> tok.tokenize(null));
    }

    @Test
    void missingOrBrokenFilesAreNamed(@TempDir Path tmp) throws IOException {
        Files.copy(dir.resolve("vocab.json"), tmp.resolve("vocab.json"));
        Files.copy(dir.resolve("tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> BpeTokenizer.load(tmp));
        assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());

        Files.writeString(tmp.resolve("merges.txt"), "#version: 0.2\nĠ t\n");
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"model_max_length\": 77,");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.load(tmp));
        assertTrue(bad.getMessage().contains("tokenizer_config.json"), bad.getMessage());

        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"pad_token\": \"<nopad>\"}");
        bad = assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.load(tmp));
        assertTrue(bad.getMessage().contains("<nopad>"), bad.getMessage());
    }
}
