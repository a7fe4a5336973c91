package org.euterpe.pipeline.tokenizer;

/** UTF-8 character lengths as sentencepiece's {@code string_util} computes them. */
final class Utf8 {
    private Utf8() {
    }

    /** {@code OneCharLen}: the length a lead byte announces (1 for a stray continuation byte). */
    static int oneCharLen(byte lead) {
        int hi = (lead & 0xFF) >>> 4;
        return hi < 12 ? 1 : hi < 14 ? 2 : hi == 14 ? 3 : 4;
    }

    /**
     * The length of the well-formed character at {@code pos} (no overlong forms, no surrogates, at most
     * U+10FFFF), or 0 when it is malformed or cut off by {@code end}.
     */
    static int validCharLength(byte[] b, int pos, int end) {
        int c = b[pos] & 0xFF;
        if (c < 0x80) {
            return 1;
        }
        int len;
        int cp;
        int min;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (end - pos < len) {
            return 0;
        }
        for (int i = 1; i < len; i++) {
            int cc = b[pos + i] & 0xFF;
            if ((cc & 0xC0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        return len;
    }
}
