package org.euterpe.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class BpeMergesTest {

    /**
     * The reference's merge loop, written out plainly: find the lowest-ranked adjacent pair, rebuild the
     * word merging its occurrences left to right, repeat. Quadratic, but obviously faithful.
     */
    private static List<String> naiveBpe(String word, Map<String, Integer> ranks) {
        List<String> w = new ArrayList<>();
        for (char c : word.toCharArray()) {
            w.add(String.valueOf(c));
        }
        while (w.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < w.size(); i++) {
                Integer r = ranks.get(w.get(i) + " " + w.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    first = w.get(i);
                    second = w.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>();
            for (int i = 0; i < w.size(); i++) {
                if (i + 1 < w.size() && w.get(i).equals(first) && w.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(w.get(i));
                }
            }
            w = merged;
        }
        return w;
    }

    @Test
    void agreesWithTheNaiveLoopOnRandomTables() {
        Random rnd = new Random(7);
        for (int table = 0; table < 200; table++) {
            // A random table over a 3-letter alphabet, in random rank order (not necessarily one a trainer
            // would produce), so pairs made in one round can outrank the round's own pair.
            List<String> symbols = new ArrayList<>(List.of("a", "b", "c"));
            StringBuilder merges = new StringBuilder("#version: 0.2\n");
            Map<String, Integer> ranks = new HashMap<>();
            int n = 1 + rnd.nextInt(12);
            for (int r = 0; r < n; r++) {
                String x = symbols.get(rnd.nextInt(symbols.size()));
                String y = symbols.get(rnd.nextInt(symbols.size()));
                merges.append(x).append(' ').append(y).append('\n');
                ranks.put(x + " " + y, r);
                symbols.add(x + y);
            }
            BpeMerges bpe = BpeMerges.parse(merges.toString(), "random table " + table);
            for (int k = 0; k < 50; k++) {
                StringBuilder word = new StringBuilder();
                int len = 1 + rnd.nextInt(20);
                for (int i = 0; i < len; i++) {
                    word.append("abc".charAt(rnd.nextInt(3)));
                }
                String w = word.toString();
                assertEquals(naiveBpe(w, ranks), bpe.apply(w), "table\n" + merges + "word " + w);
            }
        }
    }

    @Test
    void overlappingPairsMergeLeftToRight() {
        BpeMerges bpe = BpeMerges.parse("#version: 0.2\na a\n", "t");
        assertEquals(List.of("aa", "a"), bpe.apply("aaa"));
        assertEquals(List.of("aa", "aa"), bpe.apply("aaaa"));
        assertEquals(List.of("b"), bpe.apply("b"));
    }

    @Test
    void parsesLikeTheReference() {
        // CRLF line ends; the header is dropped whatever it says; a repeated pair keeps its later rank.
        BpeMerges bpe = BpeMerges.parse("x y\r\nb c\r\na b\r\nb c\r\n", "t");
        assertEquals(2, bpe.size());
        // "b c" now ranks after "a b", so "abc" merges a+b first.
        assertEquals(List.of("ab", "c"), bpe.apply("abc"));
        // The text after the last newline is dropped too (the reference's [1:-1]).
        assertEquals(List.of("a", "b"), BpeMerges.parse("#v\na b", "t").apply("ab"));
    }

    @Test
    void rejectsMalformedLines() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BpeMerges.parse("#version: 0.2\na b\nabc\n", "merges.txt"));
        assertTrue(e.getMessage().contains("merges.txt, line 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BpeMerges.parse("#version: 0.2\na b c\n", "m"));
        assertThrows(IllegalArgumentException.class, () -> BpeMerges.parse("", "m"));
    }

    @Test
    void veryLongWordMergesCompletely() {
        // 100,000 characters in one word: the reference's rescanning loop would be quadratic.
        BpeMerges bpe = BpeMerges.parse("#version: 0.2\na b\nab ab\nabab abab\n", "t");
        List<String> pieces = bpe.apply("ab".repeat(50_000));
        assertEquals(12_500, pieces.size());
        assertTrue(pieces.stream().allMatch("abababab"::equals));
    }
}
