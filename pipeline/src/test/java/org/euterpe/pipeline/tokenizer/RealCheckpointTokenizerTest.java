package org.euterpe.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;

/**
 * The tokenizer folder of the real audioldm-s-full-v2 checkpoint (no golden exists for it): it loads,
 * common words are single tokens, and it encodes exactly like the conformance tokenizer, whose vocabulary
 * and merges are the same RoBERTa ones saved by another tool (different key order and merges header).
 */
class RealCheckpointTokenizerTest {

    @Test
    void loadsAndTokenizesSanely() throws IOException {
        Path dir = TestData.sharedOrSkip("model-configs/audioldm-s-full-v2/tokenizer");
        BpeTokenizer real = BpeTokenizer.load(dir);
        assertEquals(512, real.modelMaxLength());
        assertEquals(50265, real.vocabSize());

        for (String word : new String[] {"dog", "music", "piano", "rain", "water", "bird", "guitar", "car"}) {
            assertEquals(List.of("Ġ" + word), real.tokenize(" " + word), word);
        }

        BpeTokenizer tiny = BpeTokenizer.load(TestData.conformanceCase("tiny-audioldm").resolve("tokenizer"));
        for (String prompt : new String[] {"A dog barking in the rain", "Techno music with a strong, upbeat tempo",
            "A man speaking, then a <mask> ringing", "Ünïcödé ✓ 🎶", ""}) {
            long[] ids = real.encode(prompt, 512, true, true).inputIds();
            assertArrayEquals(tiny.encode(prompt, 512, true, true).inputIds(), ids, prompt);
            if (!prompt.contains("<mask>")) {
                assertEquals(prompt, real.decode(ids));
            }
        }
    }
}
