package org.euterpe.pipeline.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's reversible map between the 256 byte values and 256 printable characters.
 *
 * <p>Byte-level BPE works on UTF-8 bytes, but its vocabulary and merges are stored as text, so every
 * byte is shown as a visible character: the printable Latin-1 bytes ({@code !..~}, {@code ¡..¬},
 * {@code ®..ÿ}) stand for themselves, and the other 68 (controls, space, soft hyphen, ...) are moved, in
 * byte order, to U+0100 onwards. That is why a leading space appears as {@code Ġ} (U+0120) in tokens.
 */
final class ByteUnicode {
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Indexed by character; -1 where the character stands for no byte. */
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int moved = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + moved++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteUnicode() {
    }

    /** The UTF-8 bytes of {@code text}, each shown as its stand-in character. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }

    /** Appends the bytes that the stand-in characters of {@code token} represent. */
    static void decodeInto(String token, ByteArrayOutputStream out) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                throw new IllegalArgumentException("token \"" + token + "\" contains '" + c
                        + "' (U+" + String.format("%04X", (int) c) + "), which stands for no byte");
            }
            out.write(b);
        }
    }
}
