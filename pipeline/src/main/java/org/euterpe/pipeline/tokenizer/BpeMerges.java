package org.euterpe.pipeline.tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The BPE merge table and the merge loop that turns one byte-level word into its BPE pieces.
 *
 * <p>Semantics are those of GPT-2 / the slow RobertaTokenizer's {@code bpe()}: start from single
 * characters; repeatedly take the adjacent pair with the lowest merge rank and merge <em>every</em>
 * occurrence of it, left to right without overlap; stop when no adjacent pair has a rank.
 *
 * <p>The reference rescans the whole word for each merge, which is quadratic in the word length. Here
 * the pieces form a linked list and the candidate pairs sit in a heap ordered by (rank, position), so a
 * word of n characters costs O(n log n). One round pops all entries of the lowest rank in position
 * order, which is exactly the reference's left-to-right pass; pairs created by that round are only
 * queued after it, as the reference only sees them on its next scan. Stale heap entries are recognised
 * because a rank names exactly one pair.
 *
 * <p>Results for short words are kept in a bounded LRU cache (the reference caches without bound).
 * Thread-safe.
 */
final class BpeMerges {
    /** Words longer than this are not cached: they are rare and would crowd out the common ones. */
    private static final int MAX_CACHED_WORD_LENGTH = 64;
    private static final int CACHE_CAPACITY = 16_384;

    /** Rank of each mergeable pair, keyed by {@code first + " " + second} (pieces never hold spaces). */
    private final Map<String, Integer> ranks;
    private final Map<String, List<String>> cache = Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, List<String>> eldest) {
                    return size() > CACHE_CAPACITY;
                }
            });

    private BpeMerges(Map<String, Integer> ranks) {
        this.ranks = ranks;
    }

    /**
     * Parses merges.txt as the reference reads it: universal newlines; the first line (the
     * {@code #version} header) is dropped whatever it holds, and so is the text after the last
     * newline (empty in a well-formed file); each remaining line is {@code first second}, and its
     * position is its rank (a repeated pair keeps its last rank).
     *
     * @param source names the file in error messages
     */
    static BpeMerges parse(String text, String source) {
        String[] lines = text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1);
        if (lines.length < 2) {
            throw new IllegalArgumentException(source + ": expected a '#version' header line, then one merge per line");
        }
        Map<String, Integer> ranks = new HashMap<>(lines.length * 2);
        for (int i = 1; i < lines.length - 1; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue; // the reference keeps it as an empty tuple that never matches
            }
            int gap = firstWhitespace(line);
            String first = gap < 0 ? line : line.substring(0, gap);
            String second = gap < 0 ? "" : line.substring(gap + 1).strip();
            if (second.isEmpty() || firstWhitespace(second) >= 0) {
                throw new IllegalArgumentException(source + ", line " + (i + 1)
                        + ": expected two space-separated symbols, got \"" + lines[i] + "\"");
            }
            ranks.put(first + " " + second, i - 1);
        }
        return new BpeMerges(ranks);
    }

    private static int firstWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /** Number of distinct merges. */
    int size() {
        return ranks.size();
    }

    /** The BPE pieces of one byte-level word (non-empty); they concatenate to the word. */
    List<String> apply(String word) {
        if (word.length() > MAX_CACHED_WORD_LENGTH) {
            return merge(word);
        }
        List<String> hit = cache.get(word);
        if (hit == null) {
            hit = merge(word);
            cache.put(word, hit);
        }
        return hit;
    }

    private List<String> merge(String word) {
        int n = word.length();
        String[] piece = new String[n]; // null once merged into its left neighbour
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            piece[i] = String.valueOf(word.charAt(i));
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        // Entries are (rank << 32 | position of the pair's left piece).
        PriorityQueue<Long> heap = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) {
            offer(heap, piece, next, i);
        }
        List<Integer> created = new ArrayList<>();
        while (!heap.isEmpty()) {
            int round = (int) (heap.peek() >>> 32);
            while (!heap.isEmpty() && (int) (heap.peek() >>> 32) == round) {
                int left = (int) (long) heap.poll();
                if (rankAt(piece, next, left) != round) {
                    continue; // stale: this piece or its neighbour changed since the entry was queued
                }
                int right = next[left];
                piece[left] = piece[left] + piece[right];
                piece[right] = null;
                next[left] = next[right];
                if (next[left] >= 0) {
                    prev[next[left]] = left;
                }
                if (prev[left] >= 0) {
                    created.add(prev[left]);
                }
                created.add(left);
            }
            for (int left : created) {
                offer(heap, piece, next, left);
            }
            created.clear();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i >= 0; i = next[i]) {
            out.add(piece[i]);
        }
        return List.copyOf(out);
    }

    private void offer(PriorityQueue<Long> heap, String[] piece, int[] next, int left) {
        int rank = rankAt(piece, next, left);
        if (rank >= 0) {
            heap.add(((long) rank << 32) | left);
        }
    }

    /** Rank of the pair starting at piece {@code left}, or -1 if it has none or no longer exists. */
    private int rankAt(String[] piece, int[] next, int left) {
        if (piece[left] == null || next[left] < 0) {
            return -1;
        }
        Integer r = ranks.get(piece[left] + " " + piece[next[left]]);
        return r == null ? -1 : r;
    }
}
