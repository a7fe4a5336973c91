package org.euterpe.pipeline.tokenizer;

/**
 * SentencePiece's compiled normalisation rules ({@code NormalizerSpec.precompiled_charsmap}): a little-endian
 * {@code uint32} trie size, a Darts-clone double-array trie over UTF-8 byte strings, then a pool of
 * NUL-terminated replacement strings that the trie's values point into.
 *
 * <p>{@link #longestMatch} is the normaliser's lookup: among the first {@value #MAX_RESULTS} prefixes of the
 * input that the trie holds, the longest. Every array access is bounds-checked, so a corrupt blob yields "no
 * rule" or a {@link SentencePieceFormatException}, never an exception from the JVM.
 */
final class PrecompiledCharsMap {
    /** sentencepiece's {@code kMaxTrieResultsSize}: results past this many are not looked at. */
    static final int MAX_RESULTS = 32;

    private final int[] units;
    private final byte[] pool;
    private final int poolStart;

    PrecompiledCharsMap(byte[] blob, String source) {
        if (blob.length <= 4) {
            throw new SentencePieceFormatException(source + ": precompiled_charsmap is broken (" + blob.length
                    + " bytes, no room for the trie)");
        }
        long trieSize = (blob[0] & 0xFFL) | (blob[1] & 0xFFL) << 8 | (blob[2] & 0xFFL) << 16 | (blob[3] & 0xFFL) << 24;
        if (trieSize > blob.length - 4) { // (sentencepiece checks against the blob with the size field)
            throw new SentencePieceFormatException(source + ": precompiled_charsmap's trie size " + trieSize
                    + " exceeds the blob (" + blob.length + " bytes)");
        }
        int n = (int) (trieSize / 4);
        if (n == 0) {
            throw new SentencePieceFormatException(source + ": precompiled_charsmap's trie is empty");
        }
        units = new int[n];
        for (int i = 0; i < n; i++) {
            int o = 4 + 4 * i;
            units[i] = (blob[o] & 0xFF) | (blob[o + 1] & 0xFF) << 8 | (blob[o + 2] & 0xFF) << 16 | (blob[o + 3] & 0xFF) << 24;
        }
        pool = blob;
        poolStart = 4 + (int) trieSize;
    }

    /**
     * The longest rule matching a prefix of {@code input[from, to)}: its length in bytes in the high half and
     * the pool offset of its replacement in the low half; 0 when no rule matches.
     */
    long longestMatch(byte[] input, int from, int to) {
        long nodePos = offset(units[0]);
        int found = 0;
        int bestLength = 0;
        int bestValue = 0;
        for (int i = from; i < to; i++) {
            int c = input[i] & 0xFF;
            nodePos ^= c;
            if (nodePos >= units.length) {
                break;
            }
            int unit = units[(int) nodePos];
            if ((unit & 0x8000_00FF) != c) { // Darts' label(): the high bit (a leaf) never matches a byte
                break;
            }
            nodePos ^= offset(unit);
            if (((unit >>> 8) & 1) == 1) {
                if (nodePos >= units.length) {
                    break;
                }
                if (found < MAX_RESULTS) {
                    int length = i + 1 - from;
                    if (bestLength == 0 || length > bestLength) {
                        bestLength = length;
                        bestValue = units[(int) nodePos] & 0x7FFF_FFFF;
                    }
                }
                found++;
            }
        }
        return (long) bestLength << 32 | bestValue;
    }

    /**
     * The replacement at {@code value}: the pool's bytes up to its NUL (or the end of the blob).
     *
     * @throws SentencePieceFormatException when the value points outside the pool
     */
    byte[] replacement(int value) {
        long start = (long) poolStart + value;
        if (start >= pool.length) {
            throw new SentencePieceFormatException("precompiled_charsmap: a rule points at " + value
                    + ", past the replacement pool (" + (pool.length - poolStart) + " bytes)");
        }
        int s = (int) start;
        int e = s;
        while (e < pool.length && pool[e] != 0) {
            e++;
        }
        byte[] out = new byte[e - s];
        System.arraycopy(pool, s, out, 0, out.length);
        return out;
    }

    private static long offset(int unit) {
        return ((long) (unit >>> 10)) << ((unit & (1 << 9)) >>> 6);
    }
}
