package org.euterpe.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every prompt record of the Stable Audio goldens (transformers' slow T5Tokenizer over a SentencePiece
 * Unigram {@code spiece.model} with the nmt_nfkc charsmap): token strings, untruncated ids, and the
 * padded/truncated ids and attention mask at model_max_length, all exact. Then the same through a
 * {@code tokenizer.json} built from the same model, which must give the same ids.
 */
class T5TokenizerConformanceTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-stable-audio", "mini-stable-audio"})
    void matchesGoldenPrompts(String caseName) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        T5Tokenizer tokenizer = T5Tokenizer.load(dir.resolve("tokenizer"));
        check(caseName, dir, tokenizer, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-stable-audio", "mini-stable-audio"})
    void tokenizerJsonGivesTheSameIds(String caseName) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        byte[] spiece = Files.readAllBytes(dir.resolve("tokenizer/spiece.model"));
        String config = Files.readString(dir.resolve("tokenizer/tokenizer_config.json"));
        String json = TokenizerJsonFixture.fromSpiece(SentencePieceModel.parse(spiece, "spiece.model"), spiece, 100);
        T5Tokenizer fast = T5Tokenizer.fromTokenizerJson(json, config, caseName + "/tokenizer.json");
        check(caseName + " via tokenizer.json", dir, fast, true);
    }

    static void check(String caseName, Path dir, T5Tokenizer tokenizer, boolean tokens) throws IOException {
        JsonObject golden = new JsonObject(Json.parseLenient(Files.readString(dir.resolve("golden.json"))),
                caseName + "/golden.json");
        JsonObject ref = golden.getObject("tokenizer");
        int maxLength = ref.getInt("model_max_length");
        assertEquals(maxLength, tokenizer.modelMaxLength(), "model_max_length");
        assertEquals(ref.getInt("pad_token_id"), tokenizer.padTokenId(), "pad_token_id");
        assertEquals(ref.getInt("eos_token_id"), tokenizer.eosTokenId(), "eos_token_id");
        assertEquals(ref.getInt("unk_token_id"), tokenizer.unkTokenId(), "unk_token_id");
        assertEquals(ref.getInt("vocab_size"), tokenizer.vocabSize(), "vocab_size");

        List<Object> prompts = golden.getList("prompts");
        int truncatedPrompts = 0;
        try (SafetensorsFile st = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            for (Object o : prompts) {
                JsonObject p = new JsonObject(o, caseName + " prompt");
                int i = p.getInt("index");
                String text = p.getString("text");
                String what = caseName + " prompt " + i + " " + abbreviate(text);
                if (tokens) {
                    assertEquals(p.getStringList("pieces"), tokenizer.tokenize(text), what + ": pieces");
                }
                Encoding full = tokenizer.encodeUntruncated(text);
                assertArrayEquals(st.longs("prompt." + i + ".untruncated_input_ids"), full.inputIds(),
                        what + ": untruncated ids");
                assertEquals(p.getInt("num_tokens_untruncated"), full.length(), what + ": untruncated length");

                Encoding enc = tokenizer.encode(text, maxLength, true, true);
                assertArrayEquals(st.longs("prompt." + i + ".input_ids"), enc.inputIds(), what + ": input_ids");
                assertArrayEquals(st.longs("prompt." + i + ".attention_mask"), enc.attentionMask(),
                        what + ": attention_mask");
                assertEquals(p.getBoolean("truncated"), enc.truncated(), what + ": truncated");
                truncatedPrompts += enc.truncated() ? 1 : 0;
            }
        }
        System.out.printf("%s: %d/%d prompts exact (ids, mask, pieces; %d truncated at %d)%n", caseName,
                prompts.size(), prompts.size(), truncatedPrompts, maxLength);
    }

    private static String abbreviate(String text) {
        String s = Arrays.toString(new String[] {text});
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
