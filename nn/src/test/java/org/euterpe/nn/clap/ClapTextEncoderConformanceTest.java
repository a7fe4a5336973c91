package org.euterpe.nn.clap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.TestBackends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The text encoder against the reference goldens (FORMAT.md section 3 and 4): every prompt's
 * embeddings, layer outputs and last hidden state (real-token rows), pooler, text_embeds and
 * prompt_embeds, and the batched encode_prompt records that consist of golden prompts.
 */
class ClapTextEncoderConformanceTest {
    private static final double TOLERANCE = 1e-5;

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("org.euterpe.nn.TestBackends#conformanceCases")
    void matchesGoldens(String caseName, Backend backend) throws Exception {
        try (ConformanceGolden golden = ConformanceGolden.open(caseName, caseName + "/" + backend.name());
                ComponentFiles files = ComponentFiles.open(golden.dir(), "text_encoder")) {
            ClapTextEncoder encoder = ClapTextEncoder.load(files, backend);
            TestBackends.onBackend(backend, () -> {
                checkPrompts(golden, encoder);
                checkEncodePrompt(golden, encoder);
            });
            golden.assertAllPassed();
        }
    }

    private static void checkPrompts(ConformanceGolden golden, ClapTextEncoder encoder) {
        int n = golden.json().getList("prompts").size();
        for (int i = 0; i < n; i++) {
            String p = "prompt." + i + ".";
            long[] ids = golden.longs(p + "input_ids");
            long[] mask = golden.longs(p + "attention_mask");
            Map<String, float[]> trace = new HashMap<>();
            ClapTextEncoder.Output out = encoder.forward(new long[][] {ids}, new long[][] {mask},
                    (name, t) -> trace.put(name, t.toFloatArray()));
            int real = (int) Arrays.stream(mask).sum();
            assertArrayEquals(new int[] {real}, out.lengths(), p + "real length");
            for (String record : golden.names()) {
                if (record.startsWith(p + "text_trace.")) {
                    float[] x = trace.get(record.substring((p + "text_trace.").length()));
                    assertTrue(x != null, "no trace for " + record);
                    golden.checkPrefix(record, x, TOLERANCE);
                }
            }
            golden.checkPrefix(p + "last_hidden_state", out.lastHiddenState().toFloatArray(), TOLERANCE);
            golden.check(p + "pooler_output", out.pooled().toFloatArray(), TOLERANCE);
            golden.check(p + "text_embeds", out.textEmbeds().toFloatArray(), TOLERANCE);
            // promptEmbeds itself is checked by the encode_prompt records
            golden.check(p + "prompt_embeds", out.textEmbeds().l2Normalize(1e-12f).toFloatArray(), TOLERANCE);
        }
    }

    /**
     * encode_prompt records whose texts are all golden prompts, encoded as one padded batch
     * (rows of different real lengths). The unconditional text is "" (tokenized to the
     * projection size in diffusers 0.21.4, which with the mask changes nothing).
     */
    private static void checkEncodePrompt(ConformanceGolden golden, ClapTextEncoder encoder) {
        Map<String, Integer> byText = new HashMap<>();
        List<Object> prompts = golden.json().getList("prompts");
        for (int i = 0; i < prompts.size(); i++) {
            byText.put(new JsonObject(prompts.get(i), "prompts").getString("text"), i);
        }
        JsonObject records = golden.json().getObject("encode_prompt");
        for (String name : records.map().keySet()) {
            JsonObject r = records.getObject(name);
            Object prompt = r.raw("prompt");
            List<String> texts = prompt instanceof String s ? List.of(s) : r.getStringList("prompt");
            Object negative = r.raw("negative_prompt");
            int copies = r.getInt("num_waveforms_per_prompt");
            List<String> rows = new ArrayList<>(); // unconditional first, then conditional
            for (int pass = 0; pass < 2; pass++) {
                for (String t : texts) {
                    String text = pass == 1 ? t : negative == null ? "" : negative.toString();
                    for (int k = 0; k < copies; k++) {
                        rows.add(text);
                    }
                }
            }
            if (!byText.keySet().containsAll(rows)) {
                System.out.println("encode_prompt." + name + ": skipped, a text is not a golden prompt");
                continue;
            }
            long[][] ids = new long[rows.size()][];
            long[][] mask = new long[rows.size()][];
            for (int j = 0; j < rows.size(); j++) {
                int i = byText.get(rows.get(j));
                ids[j] = golden.longs("prompt." + i + ".input_ids");
                mask[j] = golden.longs("prompt." + i + ".attention_mask");
            }
            Tensor embeds = encoder.promptEmbeds(ids, mask);
            golden.check("encode_prompt." + name + ".prompt_embeds", embeds.toFloatArray(), TOLERANCE);
        }
    }
}
