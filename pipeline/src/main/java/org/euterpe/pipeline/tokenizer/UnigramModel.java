package org.euterpe.pipeline.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * SentencePiece's Unigram segmentation of a normalised UTF-8 string: the Viterbi path maximising the sum of
 * piece scores (sentencepiece 0.1.97's optimised encoder: the best path ending at each byte position, ties
 * kept by the first candidate found, scores accumulated as that code does). A character no piece of length
 * one covers becomes the unknown piece at {@code min score - 10}; runs of unknown pieces are then merged into
 * one, as {@code SentencePieceProcessor} does.
 */
final class UnigramModel {
    private static final float UNK_PENALTY = 10.0f;

    /** A segment of the normalised text and the id Viterbi gave it. */
    record Segment(String piece, int id) {
    }

    private final SentencePieceModel model;
    private final ByteTrie trie = new ByteTrie();
    private final boolean[] unused;
    private final boolean[] userDefined;
    private final float[] scores;
    private final float minScore;
    private final float maxScore;

    UnigramModel(SentencePieceModel model) {
        this.model = model;
        int n = model.size();
        unused = new boolean[n];
        userDefined = new boolean[n];
        scores = new float[n];
        float min = Float.MAX_VALUE;
        float max = Float.MIN_VALUE; // sentencepiece starts at FLT_MIN, the smallest positive float
        for (int i = 0; i < n; i++) {
            SentencePieceModel.Piece p = model.pieces().get(i);
            scores[i] = p.score();
            switch (p.type()) {
                case NORMAL -> {
                    min = Math.min(min, p.score());
                    max = Math.max(max, p.score());
                    trie.put(p.piece().getBytes(StandardCharsets.UTF_8), i);
                }
                case USER_DEFINED -> {
                    userDefined[i] = true;
                    trie.put(p.piece().getBytes(StandardCharsets.UTF_8), i);
                }
                case UNUSED -> {
                    unused[i] = true;
                    trie.put(p.piece().getBytes(StandardCharsets.UTF_8), i);
                }
                default -> {
                }
            }
        }
        minScore = min;
        maxScore = max;
    }

    /** Segments normalised UTF-8 text; empty text gives no segments. */
    List<Segment> encode(byte[] text) {
        int size = text.length;
        if (size == 0) {
            return List.of();
        }
        float unkScore = minScore - UNK_PENALTY;
        int[] bestId = new int[size + 1];
        float[] bestScore = new float[size + 1];
        int[] startsAt = new int[size + 1];
        java.util.Arrays.fill(startsAt, -1);
        java.util.Arrays.fill(bestId, -1);
        int start = 0;
        while (start < size) {
            float tillHere = bestScore[start];
            boolean hasSingleNode = false;
            int mblen = Math.min(Utf8.oneCharLen(text[start]), size - start);
            int node = 0;
            for (int keyPos = start; keyPos < size; ) {
                node = trie.child(node, text[keyPos]);
                keyPos++;
                if (node < 0) {
                    break;
                }
                int id = trie.value(node);
                if (id < 0 || unused[id]) {
                    continue;
                }
                int length = keyPos - start;
                // The reference's conditional is a double (the user-defined bonus is), so the sum is too.
                double score = userDefined[id] ? (double) (length * maxScore) - 0.1 : scores[id];
                double candidate = score + tillHere;
                if (startsAt[keyPos] == -1 || candidate > bestScore[keyPos]) {
                    bestScore[keyPos] = (float) candidate;
                    startsAt[keyPos] = start;
                    bestId[keyPos] = id;
                }
                if (!hasSingleNode && length == mblen) {
                    hasSingleNode = true;
                }
            }
            if (!hasSingleNode) {
                int target = start + mblen;
                float candidate = unkScore + tillHere;
                if (startsAt[target] == -1 || candidate > bestScore[target]) {
                    bestScore[target] = candidate;
                    startsAt[target] = start;
                    bestId[target] = model.unkId();
                }
            }
            start += mblen;
        }
        List<int[]> path = new ArrayList<>();
        for (int end = size; end > 0; end = startsAt[end]) {
            path.add(new int[] {startsAt[end], end, bestId[end]});
        }
        Collections.reverse(path);
        List<Segment> out = new ArrayList<>(path.size());
        int unk = model.unkId();
        boolean prevUnk = false;
        for (int[] seg : path) {
            String piece = new String(text, seg[0], seg[1] - seg[0], StandardCharsets.UTF_8);
            boolean isUnk = seg[2] == unk;
            if (isUnk && prevUnk) {
                Segment last = out.remove(out.size() - 1);
                out.add(new Segment(last.piece() + piece, unk));
            } else {
                out.add(new Segment(piece, seg[2]));
            }
            prevUnk = isUnk;
        }
        return out;
    }
}
