package org.euterpe.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class PreTokenizerTest {

    @Test
    void whiteSpacePropertyMatchesJavasUnicodeTable() {
        Pattern ws = Pattern.compile("\\p{IsWhite_Space}");
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            assertEquals(ws.matcher(Character.toString(cp)).matches(), PreTokenizer.isWhiteSpaceProperty(cp),
                    "U+" + Integer.toHexString(cp));
        }
        // Python's str.isspace adds the information separators, which the regex's \s does not match.
        assertEquals(true, PreTokenizer.isPythonSpace(0x1F));
        assertEquals(false, PreTokenizer.isWhiteSpaceProperty(0x1F));
    }

    @Test
    void splitsLikeGpt2Pattern() {
        // Contractions are lower-case only; a whitespace run leaves its last space to the next word.
        assertEquals(List.of("I", "'m", "  ", " here", "'", "S"), PreTokenizer.split("I'm   here'S"));
        // Letters, digits and other characters form separate runs; one leading space joins each.
        assertEquals(List.of("abc", "123", " ...", " x", "1"), PreTokenizer.split("abc123 ... x1"));
        // Unicode: the \p{L}/\p{N} classes, an emoji as one code point, and NBSP/U+3000 as whitespace.
        assertEquals(List.of("café", "\u00a0", "\u3000", "½", " 🎵🎵", "\n"), PreTokenizer.split("café\u00a0\u3000½ 🎵🎵\n"));
        // U+001F is not \s for the pattern: it is grouped with punctuation.
        assertEquals(List.of("a", "\u001f!", " b"), PreTokenizer.split("a\u001f! b"));
        assertEquals(List.of(), PreTokenizer.split(""));
    }

    @Test
    void longInputsAreSplitWithoutOverflow() {
        for (String unit : new String[] {"a", " ", "!", "🎵", "ab ", "\t\n"}) {
            String text = unit.repeat(100_000 / unit.length());
            assertEquals(text, String.join("", PreTokenizer.split(text)), unit);
        }
    }
}
