package org.euterpe.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the SentencePiece side of the T5 tokenizer.
 *
 * <ul>
 *   <li>{@code parseModel}: arbitrary bytes as a {@code spiece.model} (the protobuf reader, the precompiled
 *       charsmap's double-array trie, the model checks). Allowed outcomes: a
 *       {@link SentencePieceFormatException}, or a tokenizer whose encodings of a few fixed texts are
 *       well-formed (ids in the vocabulary, {@code </s>} then padding).</li>
 *   <li>{@code encode}: arbitrary text (UTF-8, or raw UTF-16 after a leading zero byte, so lone surrogates
 *       too) through the tiny model's tokenizer. Allowed outcomes: a well-formed encoding, or the documented
 *       IllegalArgumentException for an unpaired surrogate. Printable ASCII without {@code <} must segment into
 *       pieces that spell the text back with its whitespace collapsed (nmt_nfkc leaves ASCII alone).</li>
 * </ul>
 * Without {@code JAZZER_FUZZ} this replays {@code T5TokenizerFuzzTestInputs/<method>/} as plain tests.
 * Fuzzing run (as RELIABILITY.md section 1):
 * <pre>
 * JAZZER_FUZZ=1 mvn -o -pl pipeline -am test -Dtest='T5TokenizerFuzzTest#parseModel' \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.instrumentation_includes='org.euterpe.pipeline.tokenizer.**' \
 *     -Djazzer.internal.arg.0=fuzzer -Djazzer.internal.arg.1=-max_len=2048
 * </pre>
 */
class T5TokenizerFuzzTest {
    private static final String[] TEXTS = {"", "A hammer", "AB ab\tb  c xyz q", "Caf\u00e9 \uD83C\uDFB5 </s>", "x<extra_id_3>y"};
    private static T5Tokenizer tiny;

    @BeforeAll
    static void load() throws IOException {
        tiny = T5Tokenizer.load(TestData.conformanceCase("tiny-stable-audio").resolve("tokenizer"));
    }

    @FuzzTest(maxDuration = "40m", maxExecutions = 1_000_000)
    void parseModel(byte[] input) {
        T5Tokenizer t;
        try {
            t = T5Tokenizer.fromSpieceModel(input, "{\"model_max_length\": 16}", "fuzz.model");
        } catch (SentencePieceFormatException expected) {
            return;
        }
        for (String text : TEXTS) {
            try {
                checkWellFormed(t, text, 16);
            } catch (SentencePieceFormatException brokenRule) {
                // a charsmap rule pointing outside its pool is found when the rule is used
                assertTrue(brokenRule.getMessage().contains("precompiled_charsmap"), brokenRule.getMessage());
            }
        }
    }

    @FuzzTest(maxDuration = "40m", maxExecutions = 1_000_000)
    void encode(byte[] input) {
        String text = input.length > 0 && input[0] == 0 ? utf16(input) : new String(input, StandardCharsets.UTF_8);
        if (hasLoneSurrogate(text)) {
            assertThrows(IllegalArgumentException.class, () -> tiny.tokenize(text));
            return;
        }
        checkWellFormed(tiny, text, tiny.modelMaxLength());
        if (text.chars().allMatch(c -> c >= 0x20 && c < 0x7F && c != '<')) {
            String spelled = String.join("", tiny.tokenize(text)).replace('\u2581', ' ').strip();
            assertEquals(text.strip().replaceAll(" +", " "), spelled, "pieces spell the text");
        }
    }

    private static void checkWellFormed(T5Tokenizer t, String text, int max) {
        Encoding e = t.encode(text, max, true, true);
        assertEquals(max, e.length());
        int real = 0;
        while (real < max && e.attentionMask()[real] == 1) {
            real++;
        }
        assertTrue(real >= 1, "at least </s>");
        assertEquals(t.eosTokenId(), e.inputIds()[real - 1], "</s> ends the real tokens");
        for (int i = 0; i < real; i++) {
            assertTrue(e.inputIds()[i] >= 0 && e.inputIds()[i] < t.vocabSize(), "id in the vocabulary");
        }
        for (int i = real; i < max; i++) {
            assertEquals(0, e.attentionMask()[i]);
            assertEquals(t.padTokenId(), e.inputIds()[i]);
        }
        // transformers counts one special token to add even when the ids already end with </s>
        assertEquals(t.tokenIds(text).length + 1 > max, e.truncated());
    }

    private static String utf16(byte[] input) {
        char[] c = new char[(input.length - 1) / 2];
        for (int i = 0; i < c.length; i++) {
            c[i] = (char) ((input[1 + 2 * i] & 0xFF) << 8 | (input[2 + 2 * i] & 0xFF));
        }
        return new String(c);
    }

    private static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
