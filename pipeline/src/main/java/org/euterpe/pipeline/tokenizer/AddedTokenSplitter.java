package org.euterpe.pipeline.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts the added tokens out of a text before BPE, with their whitespace-stripping rules, as the slow
 * tokenizer's {@code tokenize} does (transformers 4.35).
 *
 * <p>Matching takes, at the earliest position where any added token occurs, the longest token there,
 * then continues after it. This is what the reference's trie yields whenever no added token contains
 * another one inside it (true of RoBERTa's special tokens). Then, for each extracted token in order:
 * {@code rstrip} strips leading whitespace from the text after it, {@code lstrip} strips trailing
 * whitespace from the text before it, and a {@code singleWord} token glued to a word is joined back
 * into that word's text. Whitespace is Python's {@code str.isspace}. Texts that end up empty are
 * dropped.
 */
final class AddedTokenSplitter {
    private final Map<String, AddedToken> byContent;
    /** Candidate contents by first character, longest first. */
    private final Map<Character, List<String>> byFirstChar = new HashMap<>();

    AddedTokenSplitter(Map<String, AddedToken> byContent) {
        this.byContent = Map.copyOf(byContent);
        for (String c : byContent.keySet()) {
            byFirstChar.computeIfAbsent(c.charAt(0), k -> new ArrayList<>()).add(c);
        }
        for (List<String> l : byFirstChar.values()) {
            l.sort(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()));
        }
    }

    /** The added token whose content is exactly {@code piece}, or null. */
    AddedToken tokenFor(String piece) {
        return byContent.get(piece);
    }

    /**
     * Splits {@code text} into pieces that are either the content of an added token (see
     * {@link #tokenFor}) or plain text to be BPE-tokenised; none is empty.
     */
    List<String> split(String text) {
        List<String> pieces = cut(text);
        for (int i = 0; i < pieces.size(); i++) {
            AddedToken tok = byContent.get(pieces.get(i));
            if (tok == null) {
                continue;
            }
            // The conditions look at the neighbours as they were before this token stripped them.
            String left = i > 0 ? pieces.get(i - 1) : "";
            String right = i + 1 < pieces.size() ? pieces.get(i + 1) : "";
            if (tok.rstrip() && !right.isEmpty()) {
                pieces.set(i + 1, stripLeading(right));
            }
            if (tok.lstrip() && !left.isEmpty()) {
                pieces.set(i - 1, stripTrailing(left));
            }
            if (tok.singleWord() && !left.isEmpty() && !left.endsWith(" ")) {
                pieces.set(i - 1, pieces.get(i - 1) + tok.content());
                pieces.set(i, "");
            } else if (tok.singleWord() && !right.isEmpty() && !right.startsWith(" ")) {
                pieces.set(i + 1, tok.content() + pieces.get(i + 1));
                pieces.set(i, "");
            }
        }
        pieces.removeIf(String::isEmpty);
        return pieces;
    }

    /** Text and token contents in order: earliest match first, longest at a position. */
    private List<String> cut(String text) {
        List<String> pieces = new ArrayList<>();
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            String match = longestAt(text, i);
            if (match == null) {
                i++;
                continue;
            }
            if (i > plainStart) {
                pieces.add(text.substring(plainStart, i));
            }
            pieces.add(match);
            i += match.length();
            plainStart = i;
        }
        if (plainStart < text.length()) {
            pieces.add(text.substring(plainStart));
        }
        return pieces;
    }

    private String longestAt(String text, int i) {
        List<String> candidates = byFirstChar.get(text.charAt(i));
        if (candidates != null) {
            for (String c : candidates) {
                if (text.startsWith(c, i)) {
                    return c;
                }
            }
        }
        return null;
    }

    private static String stripLeading(String s) {
        int b = 0;
        while (b < s.length() && PreTokenizer.isPythonSpace(s.charAt(b))) {
            b++;
        }
        return s.substring(b);
    }

    private static String stripTrailing(String s) {
        int e = s.length();
        while (e > 0 && PreTokenizer.isPythonSpace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(0, e);
    }
}
