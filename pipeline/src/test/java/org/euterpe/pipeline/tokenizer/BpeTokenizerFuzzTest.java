package org.euterpe.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the BPE tokenizer of the tiny model on arbitrary text: UTF-8 decoded bytes (any code point,
 * including U+FFFD) or, after a leading zero byte, raw UTF-16 units (so lone surrogates too). Allowed outcomes: an encoding, or the
 * documented IllegalArgumentException for text with an unpaired surrogate. Every encoding must be
 * well-formed ({@code <s> ... </s>} then padding, 77 long), and text free of added tokens must decode back
 * to itself: byte-level BPE loses nothing.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code BpeTokenizerFuzzTestInputs/encode/} as a plain test.
 *
 * <p>A fuzzing run is dominated by Jazzer's hooks, not by the tokenizer (plain: ~7,500 inputs/s; default
 * Jazzer: ~300/s). For ~1,500/s, instrument only the tokenizer, drop the regex-internals hooks (the
 * pre-tokenizer's pattern is a fixed one, there is nothing to steer towards) and cap the input length
 * (the per-word BPE is O(n log n), long inputs only repeat the short paths):
 * <pre>
 * JAZZER_FUZZ=1 mvn -o -pl pipeline -am test -Dtest='BpeTokenizerFuzzTest#encode' \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.instrumentation_includes='org.euterpe.pipeline.tokenizer.**' \
 *     -Djazzer.disabled_hooks=com.code_intelligence.jazzer.sanitizers.RegexRoadblocks \
 *     -Djazzer.internal.arg.0=fuzzer -Djazzer.internal.arg.1=-max_len=256
 * </pre>
 */
class BpeTokenizerFuzzTest {
    private static BpeTokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = BpeTokenizer.load(TestData.conformanceCase("tiny-audioldm").resolve("tokenizer"));
    }

    @FuzzTest(maxDuration = "40m", maxExecutions = 1_000_000)
    void encode(byte[] input) {
        String text = input.length > 0 && input[0] == 0 ? utf16(input) : new String(input, StandardCharsets.UTF_8);
        if (hasLoneSurrogate(text)) {
            assertThrows(IllegalArgumentException.class, () -> tokenizer.tokenize(text));
            return;
        }
        int max = tokenizer.modelMaxLength();
        Encoding e = tokenizer.encode(text, max, true, true);
        assertEquals(max, e.length());
        assertEquals(tokenizer.clsTokenId(), e.inputIds()[0]);
        int real = 0;
        while (real < max && e.attentionMask()[real] == 1) {
            real++;
        }
        assertEquals(tokenizer.sepTokenId(), e.inputIds()[real - 1], "</s> ends the real tokens");
        for (int i = real; i < max; i++) {
            assertEquals(0, e.attentionMask()[i]);
            assertEquals(tokenizer.padTokenId(), e.inputIds()[i]);
        }
        if (!text.contains("<")) { // no added token can occur
            int[] ids = tokenizer.tokenIds(text);
            long[] wide = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                wide[i] = ids[i];
            }
            assertEquals(text, tokenizer.decode(wide));
            assertEquals(ids.length > max - 2, e.truncated());
        }
    }

    /** Pairs of bytes as UTF-16 units, after the mode byte. */
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
