package org.euterpe.pipeline.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * A trie over byte strings with an int value per key, walked one byte at a time: the vocabulary lookup of
 * the Unigram Viterbi and the user-defined-symbol matcher of the normaliser.
 */
final class ByteTrie {
    /** Edge (node << 8 | byte) to child node. */
    private final Map<Long, Integer> edges = new HashMap<>();
    private int[] values = {-1};
    private int nodes = 1;

    /** Adds {@code key} with {@code value} (non-negative); the first value for a key wins. */
    void put(byte[] key, int value) {
        int node = 0;
        for (byte b : key) {
            long edge = (long) node << 8 | (b & 0xFF);
            Integer child = edges.get(edge);
            if (child == null) {
                child = nodes++;
                if (child >= values.length) {
                    values = java.util.Arrays.copyOf(values, values.length * 2);
                    java.util.Arrays.fill(values, child, values.length, -1);
                }
                edges.put(edge, child);
            }
            node = child;
        }
        if (node != 0 && values[node] < 0) {
            values[node] = value;
        }
    }

    /** The child of {@code node} on byte {@code b}, or -1. */
    int child(int node, byte b) {
        Integer c = edges.get((long) node << 8 | (b & 0xFF));
        return c == null ? -1 : c;
    }

    /** The value stored at {@code node}, or -1. */
    int value(int node) {
        return values[node];
    }

    /** The length of the longest key that is a prefix of {@code b[pos, end)}, or 0. */
    int longestPrefix(byte[] b, int pos, int end) {
        int node = 0;
        int best = 0;
        for (int i = pos; i < end; i++) {
            node = child(node, b[i]);
            if (node < 0) {
                break;
            }
            if (values[node] >= 0) {
                best = i + 1 - pos;
            }
        }
        return best;
    }
}
