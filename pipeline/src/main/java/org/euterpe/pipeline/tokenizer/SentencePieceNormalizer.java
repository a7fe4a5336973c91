package org.euterpe.pipeline.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * SentencePiece's normaliser over UTF-8 bytes: user-defined symbols pass unchanged, everything else is
 * rewritten by the longest compiled rule ({@link PrecompiledCharsMap}, e.g. {@code nmt_nfkc}: NFKC plus
 * mapping tabs and newlines to spaces) or copied one character at a time; then the whitespace switches:
 * leading, trailing and repeated spaces dropped ({@code remove_extra_whitespaces}), one space prepended
 * ({@code add_dummy_prefix}), spaces written as {@code ▁} U+2581 ({@code escape_whitespaces}).
 */
final class SentencePieceNormalizer {
    private static final byte[] SPACE_SYMBOL = {(byte) 0xE2, (byte) 0x96, (byte) 0x81};
    private static final byte[] REPLACEMENT_CHAR = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};

    private final SentencePieceModel.NormalizerSpec spec;
    private final boolean whitespaceAsSuffix;
    private final PrecompiledCharsMap charsMap;
    private final ByteTrie userDefined;

    SentencePieceNormalizer(SentencePieceModel.NormalizerSpec spec, boolean whitespaceAsSuffix,
            List<String> userDefinedSymbols, String source) {
        this.spec = spec;
        this.whitespaceAsSuffix = whitespaceAsSuffix;
        this.charsMap = spec.precompiledCharsmap().length == 0 ? null
                : new PrecompiledCharsMap(spec.precompiledCharsmap(), source);
        this.userDefined = new ByteTrie();
        for (String s : userDefinedSymbols) {
            userDefined.put(s.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0);
        }
    }

    /** Normalises UTF-8 {@code input}; the result is UTF-8 (an empty input gives an empty result). */
    byte[] normalize(byte[] input) {
        int pos = 0;
        int end = input.length;
        if (end == 0) {
            return new byte[0];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(input.length * 3 + 3);
        if (spec.removeExtraWhitespaces()) {
            while (pos < end) {
                Prefix p = normalizePrefix(input, pos, end);
                if (!(p.text.length == 1 && p.text[0] == ' ')) {
                    break;
                }
                pos += p.consumed;
            }
        }
        if (pos >= end) {
            return new byte[0];
        }
        boolean escape = spec.escapeWhitespaces();
        if (!whitespaceAsSuffix && spec.addDummyPrefix()) {
            addSpace(out, escape);
        }
        boolean prevSpace = spec.removeExtraWhitespaces();
        while (pos < end) {
            Prefix p = normalizePrefix(input, pos, end);
            int s = 0;
            if (prevSpace) {
                while (s < p.text.length && p.text[s] == ' ') {
                    s++;
                }
            }
            if (s < p.text.length) {
                for (int n = s; n < p.text.length; n++) {
                    if (escape && p.text[n] == ' ') {
                        out.write(SPACE_SYMBOL, 0, SPACE_SYMBOL.length);
                    } else {
                        out.write(p.text[n]);
                    }
                }
                prevSpace = p.text[p.text.length - 1] == ' ';
            }
            pos += p.consumed;
            if (!spec.removeExtraWhitespaces()) {
                prevSpace = false;
            }
        }
        byte[] result = out.toByteArray();
        int len = result.length;
        if (spec.removeExtraWhitespaces()) {
            byte[] space = escape ? SPACE_SYMBOL : new byte[] {' '};
            while (endsWith(result, len, space)) {
                len -= space.length;
            }
        }
        if (whitespaceAsSuffix && spec.addDummyPrefix()) {
            ByteArrayOutputStream withSuffix = new ByteArrayOutputStream(len + 3);
            withSuffix.write(result, 0, len);
            addSpace(withSuffix, escape);
            return withSuffix.toByteArray();
        }
        return len == result.length ? result : java.util.Arrays.copyOf(result, len);
    }

    private record Prefix(byte[] text, int consumed) {
    }

    private Prefix normalizePrefix(byte[] input, int pos, int end) {
        int user = userDefined.longestPrefix(input, pos, end);
        if (user > 0) {
            return new Prefix(java.util.Arrays.copyOfRange(input, pos, pos + user), user);
        }
        if (charsMap != null) {
            long m = charsMap.longestMatch(input, pos, end);
            int length = (int) (m >>> 32);
            if (length > 0) {
                return new Prefix(charsMap.replacement((int) m), length);
            }
        }
        int length = Utf8.validCharLength(input, pos, end);
        if (length == 0) {
            return new Prefix(REPLACEMENT_CHAR, 1);
        }
        return new Prefix(java.util.Arrays.copyOfRange(input, pos, pos + length), length);
    }

    private static void addSpace(ByteArrayOutputStream out, boolean escape) {
        if (escape) {
            out.write(SPACE_SYMBOL, 0, SPACE_SYMBOL.length);
        } else {
            out.write(' ');
        }
    }

    private static boolean endsWith(byte[] b, int len, byte[] suffix) {
        if (len < suffix.length) {
            return false;
        }
        for (int i = 0; i < suffix.length; i++) {
            if (b[len - suffix.length + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }
}
