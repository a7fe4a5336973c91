package org.euterpe.nn.clap;

/**
 * Token ids prepared for the text tower on the host: cut to the longest real length of the
 * batch, with RoBERTa position ids and the additive attention mask.
 *
 * <p>Trailing padding (mask 0 after a row's last real token) is dropped: it is masked out as a
 * key, and a token's position id depends only on the tokens before it, so the real tokens'
 * results are the same as with the padding and it costs no compute. Rows shorter than the
 * longest are padded back with the pad id and mask 0.
 *
 * @param ids       {@code [batch * length]} row-major
 * @param positions {@code [batch * length]}: {@code pad + number of non-pad ids up to here}
 *                  for non-pad ids, {@code pad} for pad ids (transformers'
 *                  {@code create_position_ids_from_input_ids})
 * @param mask      {@code [batch * length]} additive, 0 or {@code -Float.MAX_VALUE} (the
 *                  {@code torch.finfo(float32).min} transformers adds); null when no key is masked
 * @param lengths   each row's real length (up to and including its last unmasked token)
 */
record TokenBatch(int batch, int length, long[] ids, long[] positions, float[] mask, int[] lengths) {

    /**
     * @param ids  {@code [batch][tokens]} token ids
     * @param mask {@code [batch][tokens]} attention mask, 1 for real tokens and 0 for padding
     */
    static TokenBatch of(long[][] ids, long[][] mask, ClapTextConfig config) {
        if (ids.length == 0 || ids.length != mask.length) {
            throw new IllegalArgumentException("need one mask row per id row and at least one row, got "
                    + ids.length + " id rows and " + mask.length + " mask rows");
        }
        int batch = ids.length;
        int[] lengths = new int[batch];
        int length = 0;
        for (int b = 0; b < batch; b++) {
            if (ids[b].length != mask[b].length) {
                throw new IllegalArgumentException("row " + b + ": " + ids[b].length + " ids but " + mask[b].length
                        + " mask entries");
            }
            for (int j = 0; j < mask[b].length; j++) {
                if (mask[b][j] != 0 && mask[b][j] != 1) {
                    throw new IllegalArgumentException("row " + b + ": attention mask value " + mask[b][j]
                            + " at " + j + " (expected 0 or 1)");
                }
                if (mask[b][j] == 1) {
                    lengths[b] = j + 1;
                }
            }
            if (lengths[b] == 0) {
                throw new IllegalArgumentException("row " + b + " has no real token (its attention mask is all 0)");
            }
            length = Math.max(length, lengths[b]);
        }

        int pad = config.padTokenId();
        long[] flatIds = new long[batch * length];
        long[] positions = new long[batch * length];
        float[] additive = new float[batch * length];
        boolean anyMasked = false;
        for (int b = 0; b < batch; b++) {
            long seen = 0;
            for (int j = 0; j < length; j++) {
                int i = b * length + j;
                long id = j < lengths[b] ? ids[b][j] : pad;
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("row " + b + ": token id " + id + " at " + j
                            + " is outside the vocabulary [0, " + config.vocabSize() + ")");
                }
                flatIds[i] = id;
                if (id != pad) {
                    seen++;
                    positions[i] = pad + seen;
                } else {
                    positions[i] = pad;
                }
                if (positions[i] >= config.maxPositions()) {
                    throw new IllegalArgumentException("row " + b + ": " + seen + " tokens exceed the "
                            + (config.maxPositions() - pad - 1) + " positions of the text encoder");
                }
                if (j >= lengths[b] || mask[b][j] == 0) {
                    additive[i] = -Float.MAX_VALUE;
                    anyMasked = true;
                }
            }
        }
        return new TokenBatch(batch, length, flatIds, positions, anyMasked ? additive : null, lengths);
    }
}
