package org.euterpe.pipeline.tokenizer;

/**
 * A token that is matched in the raw text before BPE and never split (RoBERTa's {@code <s>},
 * {@code </s>}, {@code <pad>}, {@code <unk>}, {@code <mask>}, or a token added to the vocabulary).
 *
 * @param content    the exact text that is matched
 * @param id         its id
 * @param lstrip     when found, the whitespace before it is dropped (RoBERTa's {@code <mask>})
 * @param rstrip     when found, the whitespace after it is dropped
 * @param singleWord only extracted when it is not glued to a neighbouring word
 * @param special    a special token: skipped when decoding
 */
public record AddedToken(String content, int id, boolean lstrip, boolean rstrip, boolean singleWord, boolean special) {
    public AddedToken {
        if (content == null || content.isEmpty()) {
            throw new IllegalArgumentException("an added token must have non-empty content");
        }
    }
}
