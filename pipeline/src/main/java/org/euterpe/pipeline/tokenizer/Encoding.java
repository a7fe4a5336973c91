package org.euterpe.pipeline.tokenizer;

import java.util.Arrays;

/**
 * One encoded prompt: {@code <s> tokens... </s>} then padding.
 *
 * @param inputIds      token ids, {@code [length]}
 * @param attentionMask 1 for real tokens (including {@code <s>} and {@code </s>}), 0 for padding, {@code [length]}
 * @param truncated     whether tokens were dropped to fit the maximum length
 */
public record Encoding(long[] inputIds, long[] attentionMask, boolean truncated) {
    public Encoding {
        if (inputIds.length != attentionMask.length) {
            throw new IllegalArgumentException("ids and mask differ in length: " + inputIds.length + " vs "
                    + attentionMask.length);
        }
    }

    public int length() {
        return inputIds.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Encoding e && truncated == e.truncated && Arrays.equals(inputIds, e.inputIds)
                && Arrays.equals(attentionMask, e.attentionMask);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(inputIds) + Arrays.hashCode(attentionMask) + Boolean.hashCode(truncated);
    }

    @Override
    public String toString() {
        return "Encoding[ids=" + Arrays.toString(inputIds) + ", mask=" + Arrays.toString(attentionMask)
                + ", truncated=" + truncated + "]";
    }
}
