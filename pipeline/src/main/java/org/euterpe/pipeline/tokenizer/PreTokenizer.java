package org.euterpe.pipeline.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's pre-tokenisation: splits text into the words that BPE then works on, one at a time.
 *
 * <p>The pattern is GPT-2's, as the slow RobertaTokenizer compiles it with Python's {@code regex}
 * module: {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}.
 * Every character of the input lands in exactly one word, so the split loses nothing.
 *
 * <p>Translation notes: the {@code regex} module's {@code \s} is the Unicode {@code White_Space}
 * property (it matches U+0085, U+00A0, U+2028, U+3000, ... but not U+001C..U+001F), whereas Java's
 * plain {@code \s} is ASCII-only, so the property is spelled out. {@code \p{L}} and {@code \p{N}} are
 * general categories in both. Java matches character classes by code point, as Python does, so an
 * emoji (a surrogate pair here) is one character. Greedy single-class loops run iteratively in
 * {@link Pattern}, so very long words neither recurse nor backtrack quadratically.
 */
final class PreTokenizer {
    private static final String WS = "\\p{IsWhite_Space}";
    private static final Pattern WORD = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d"
                    + "| ?\\p{L}+"
                    + "| ?\\p{N}+"
                    + "| ?[^" + WS + "\\p{L}\\p{N}]+"
                    + "|[" + WS + "]+(?![^" + WS + "])" // a whitespace run, leaving its last char to the next word
                    + "|[" + WS + "]+");

    private PreTokenizer() {
    }

    /** The words of {@code text}, in order; their concatenation is {@code text}. */
    static List<String> split(String text) {
        List<String> words = new ArrayList<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            words.add(m.group());
        }
        return words;
    }

    /**
     * Python's {@code str.isspace} for one code point, which {@code str.strip} and the prefix-space
     * rule use: Unicode White_Space plus the four information separators U+001C..U+001F.
     */
    static boolean isPythonSpace(int cp) {
        return (cp >= 0x1C && cp <= 0x1F) || isWhiteSpaceProperty(cp);
    }

    /** The Unicode White_Space property, the set the pattern calls {@code \p{IsWhite_Space}}. */
    static boolean isWhiteSpaceProperty(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F,
                 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }
}
