package org.euterpe.pipeline.tokenizer;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.tensor.json.Json;

/**
 * Writes a Hugging Face {@code tokenizer.json} (Unigram model, Precompiled + Replace normaliser, Metaspace
 * pre-tokenizer, the specials and sentinels as added tokens) for a SentencePiece model, laid out as
 * transformers' T5 converter writes it.
 */
final class TokenizerJsonFixture {
    private TokenizerJsonFixture() {
    }

    static String fromSpiece(SentencePieceModel model, byte[] spiece, int extraIds) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        List<Object> added = new ArrayList<>();
        List<Object> vocab = new ArrayList<>();
        int unk = -1;
        for (int i = 0; i < model.size(); i++) {
            SentencePieceModel.Piece p = model.pieces().get(i);
            vocab.add(List.of(p.piece(), (double) p.score()));
            if (p.type() == SentencePieceModel.PieceType.UNKNOWN) {
                unk = i;
            }
            if (p.type() == SentencePieceModel.PieceType.CONTROL || p.type() == SentencePieceModel.PieceType.UNKNOWN) {
                added.add(token(i, p.piece(), false));
            }
        }
        for (int i = 0; i < extraIds; i++) {
            int id = model.size() + extraIds - 1 - i;
            added.add(token(id, "<extra_id_" + i + ">", true));
        }
        root.put("added_tokens", added);
        root.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(
                Map.of("type", "Precompiled", "precompiled_charsmap",
                        Base64.getEncoder().encodeToString(model.normalizer().precompiledCharsmap())),
                Map.of("type", "Replace", "pattern", Map.of("Regex", " {2,}"), "content", " "))));
        root.put("pre_tokenizer", Map.of("type", "Metaspace", "replacement", "\u2581", "add_prefix_space", true,
                "prepend_scheme", "always"));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "Unigram");
        m.put("unk_id", (long) unk);
        m.put("vocab", vocab);
        m.put("byte_fallback", false);
        root.put("model", m);
        return Json.write(root);
    }

    private static Map<String, Object> token(int id, String content, boolean strip) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("id", (long) id);
        t.put("content", content);
        t.put("single_word", strip);
        t.put("lstrip", strip);
        t.put("rstrip", strip);
        t.put("normalized", false);
        t.put("special", true);
        return t;
    }
}
