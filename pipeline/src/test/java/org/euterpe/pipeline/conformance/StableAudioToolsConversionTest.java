package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.euterpe.converter.CheckpointException;
import org.euterpe.converter.Converter;
import org.euterpe.converter.StableAudioToolsCheckpoint;
import org.euterpe.kernels.Backends;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.euterpe.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stable-audio-tools' single {@code model.safetensors} + {@code model_config.json}: the tiny conformance case is
 * written in that layout here (the inverse of diffusers' {@code convert_stable_audio.py} mapping: fused qkv / kv,
 * {@code gamma}/{@code beta} norms, {@code [n, 1]} Fourier weights, {@code [C]} snake parameters, the
 * {@code layers.k} numbering of stable-audio-tools' Oobleck), converted back, and must give exactly the tensors of
 * the diffusers folder and pass every conformance record.
 */
public class StableAudioToolsConversionTest {
    @TempDir
    Path tmp;

    /** The tiny case's model_config.json, as stable-audio-tools would write it. */
    static String tinyModelConfig() {
        return """
                {
                  "model_type": "diffusion_cond",
                  "sample_size": 128,
                  "sample_rate": 4000,
                  "audio_channels": 2,
                  "model": {
                    "pretransform": {
                      "type": "autoencoder",
                      "iterate_batch": true,
                      "config": {
                        "encoder": {"type": "oobleck", "requires_grad": false, "config": {"in_channels": 2,
                            "channels": 16, "c_mults": [1, 2], "strides": [2, 4], "latent_dim": 16, "use_snake": true}},
                        "decoder": {"type": "oobleck", "config": {"out_channels": 2, "channels": 8, "c_mults": [1, 2],
                            "strides": [2, 4], "latent_dim": 8, "use_snake": true, "final_tanh": false}},
                        "bottleneck": {"type": "vae"},
                        "latent_dim": 8,
                        "downsampling_ratio": 8,
                        "io_channels": 2
                      }
                    },
                    "conditioning": {
                      "configs": [
                        {"id": "prompt", "type": "t5", "config": {"t5_model_name": "t5-base", "max_length": 32}},
                        {"id": "seconds_start", "type": "number", "config": {"min_val": 0, "max_val": 64}},
                        {"id": "seconds_total", "type": "number", "config": {"min_val": 0, "max_val": 64}}
                      ],
                      "cond_dim": 32
                    },
                    "diffusion": {
                      "cross_attention_cond_ids": ["prompt", "seconds_start", "seconds_total"],
                      "global_cond_ids": ["seconds_start", "seconds_total"],
                      "type": "dit",
                      "config": {"io_channels": 8, "embed_dim": 32, "depth": 2, "num_heads": 4, "cond_token_dim": 32,
                          "global_cond_dim": 64, "project_cond_tokens": true,
                          "transformer_type": "continuous_transformer"}
                    },
                    "io_channels": 8
                  },
                  "training": {"learning_rate": 5e-5, "demo": {"demo_every": 2000}}
                }
                """;
    }

    private static final Pattern BLOCK = Pattern.compile("transformer_blocks\\.(\\d+)\\.(.+)");
    private static final Map<String, String> BLOCK_PARTS = Map.ofEntries(
            Map.entry("attn1.to_out.0.weight", "self_attn.to_out.weight"),
            Map.entry("attn2.to_q.weight", "cross_attn.to_q.weight"),
            Map.entry("attn2.to_out.0.weight", "cross_attn.to_out.weight"),
            Map.entry("norm1.weight", "pre_norm.gamma"), Map.entry("norm1.bias", "pre_norm.beta"),
            Map.entry("norm2.weight", "cross_attend_norm.gamma"), Map.entry("norm2.bias", "cross_attend_norm.beta"),
            Map.entry("norm3.weight", "ff_norm.gamma"), Map.entry("norm3.bias", "ff_norm.beta"),
            Map.entry("ff.net.0.proj.weight", "ff.ff.0.proj.weight"), Map.entry("ff.net.0.proj.bias", "ff.ff.0.proj.bias"),
            Map.entry("ff.net.2.weight", "ff.ff.2.weight"), Map.entry("ff.net.2.bias", "ff.ff.2.bias"));
    private static final Map<String, String> TOP = Map.of("timestep_proj.", "to_timestep_embed.", "global_proj.",
            "to_global_embed.", "cross_attention_proj.", "to_cond_embed.", "proj_in.", "transformer.project_in.",
            "proj_out.", "transformer.project_out.", "preprocess_conv.", "preprocess_conv.", "postprocess_conv.",
            "postprocess_conv.");

    /** A diffusers DiT name in stable-audio-tools' naming (fused projections: the name of the fused tensor). */
    static String ditInverse(String name) {
        if (name.equals("time_proj.weight")) {
            return "model.model.timestep_features.weight";
        }
        Matcher m = BLOCK.matcher(name);
        if (m.matches()) {
            String p = "model.model.transformer.layers." + m.group(1) + ".";
            String rest = m.group(2);
            if (rest.matches("attn1\\.to_[qkv]\\.weight")) {
                return p + "self_attn.to_qkv.weight";
            }
            if (rest.matches("attn2\\.to_[kv]\\.weight")) {
                return p + "cross_attn.to_kv.weight";
            }
            return p + BLOCK_PARTS.get(rest);
        }
        for (Map.Entry<String, String> e : TOP.entrySet()) {
            if (name.startsWith(e.getKey())) {
                return "model.model." + e.getValue() + name.substring(e.getKey().length());
            }
        }
        throw new AssertionError("unmapped " + name);
    }

    /** A diffusers Oobleck name in stable-audio-tools' numbering, for {@code blocks} blocks. */
    static String vaeInverse(String name, int blocks) {
        String[] res = {"snake1", "conv1", "snake2", "conv2"};
        Matcher m = Pattern.compile("(encoder|decoder)\\.(.+)").matcher(name);
        assertTrue(m.matches(), name);
        String coder = m.group(1);
        String rest = m.group(2);
        String p = "pretransform.model." + coder + ".layers.";
        if (rest.startsWith("conv1.")) {
            return p + "0." + rest.substring(6);
        }
        if (rest.startsWith("snake1.")) {
            return p + (blocks + 1) + "." + rest.substring(7);
        }
        if (rest.startsWith("conv2.")) {
            return p + (blocks + 2) + "." + rest.substring(6);
        }
        Matcher b = Pattern.compile("block\\.(\\d+)\\.(res_unit(\\d)\\.(\\w+)|(\\w+))\\.(\\w+)").matcher(rest);
        assertTrue(b.matches(), name);
        String layer = p + (Integer.parseInt(b.group(1)) + 1) + ".layers.";
        if (b.group(3) != null) {
            int unit = Integer.parseInt(b.group(3)) - 1;
            int at = coder.equals("encoder") ? unit : unit + 2;
            return layer + at + ".layers." + List.of(res).indexOf(b.group(4)) + "." + b.group(6);
        }
        String part = b.group(5);
        int at = coder.equals("encoder") ? (part.equals("snake1") ? 3 : 4) : (part.equals("snake1") ? 0 : 1);
        return layer + at + "." + b.group(6);
    }

    /** Writes the tiny case in stable-audio-tools' layout: model.safetensors and model_config.json. */
    public static Path writeStableAudioTools(Path tiny, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter();
        Map<String, List<float[]>> fused = new LinkedHashMap<>();
        Map<String, int[]> fusedShape = new LinkedHashMap<>();
        try (SafetensorsFile t = SafetensorsFile.open(tiny.resolve("transformer/diffusion_pytorch_model.safetensors"));
                SafetensorsFile v = SafetensorsFile.open(tiny.resolve("vae/diffusion_pytorch_model.safetensors"));
                SafetensorsFile p = SafetensorsFile.open(
                        tiny.resolve("projection_model/diffusion_pytorch_model.safetensors"))) {
            // q, k, v (and k, v) in diffusers' order, concatenated along the rows as torch.chunk splits them
            List<String> names = new ArrayList<>(t.names());
            names.sort(java.util.Comparator.comparing(n -> n.replace("to_q.", "to_0.").replace("to_k.", "to_1.")
                    .replace("to_v.", "to_2.")));
            for (String n : names) {
                String to = ditInverse(n);
                int[] dims = t.entry(n).shape().dims();
                if (to.endsWith("to_qkv.weight") || to.endsWith("to_kv.weight")) {
                    fused.computeIfAbsent(to, k -> new ArrayList<>()).add(t.floats(n));
                    int[] prev = fusedShape.get(to);
                    fusedShape.put(to, new int[] {(prev == null ? 0 : prev[0]) + dims[0], dims[1]});
                } else if (n.equals("time_proj.weight")) {
                    w.add(to, Shape.of(dims[0], 1), t.floats(n));
                } else {
                    w.add(to, Shape.of(dims), t.floats(n));
                }
            }
            for (Map.Entry<String, List<float[]>> e : fused.entrySet()) {
                int total = e.getValue().stream().mapToInt(a -> a.length).sum();
                float[] all = new float[total];
                int at = 0;
                for (float[] a : e.getValue()) {
                    System.arraycopy(a, 0, all, at, a.length);
                    at += a.length;
                }
                w.add(e.getKey(), Shape.of(fusedShape.get(e.getKey())), all);
            }
            // a buffer stable-audio-tools saves and the engine recomputes
            w.add("model.model.transformer.rotary_pos_emb.inv_freq", Shape.of(2), new float[] {1f, 0.01f});
            for (String n : v.names()) {
                int[] dims = v.entry(n).shape().dims();
                if (n.endsWith(".alpha") || n.endsWith(".beta")) {
                    dims = new int[] {dims[1]};
                }
                w.add(vaeInverse(n, 2), Shape.of(dims), v.floats(n));
            }
            for (String n : p.names()) {
                String to = "conditioner.conditioners." + (n.startsWith("start_") ? "seconds_start" : "seconds_total")
                        + ".embedder.embedding." + n.substring(n.indexOf("time_positional_embedding.")
                                + "time_positional_embedding.".length());
                w.add(to, Shape.of(p.entry(n).shape().dims()), p.floats(n));
            }
        }
        w.write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("model_config.json"), tinyModelConfig());
        return dir;
    }

    @Test
    void convertsToTheDiffusersTensorsAndPassesConformance() throws Exception {
        Path tiny = TestData.conformanceCase("tiny-stable-audio");
        Path sat = writeStableAudioTools(tiny, tmp.resolve("sat"));
        assertTrue(StableAudioToolsCheckpoint.isCheckpointFolder(sat));
        Path folder = tmp.resolve("diffusers");
        Files.createDirectories(folder);
        // the T5 encoder and tokenizer: the tiny case's own (a diffusers folder's text_encoder/ and tokenizer/)
        StableAudioToolsCheckpoint.toDiffusersFolder(sat, tiny, folder);
        for (String c : List.of("transformer", "vae", "projection_model")) {
            assertEquals(org.euterpe.tensor.json.Json.parse(Files.readString(tiny.resolve(c + "/config.json"))),
                    org.euterpe.tensor.json.Json.parse(Files.readString(folder.resolve(c + "/config.json"))), c);
        }
        Path a = tmp.resolve("a.safetensors");
        Path b = tmp.resolve("b.safetensors");
        Converter.convert(tiny, a, DType.F32);
        Converter.convert(folder, b, DType.F32);
        try (SafetensorsFile fa = SafetensorsFile.open(a); SafetensorsFile fb = SafetensorsFile.open(b)) {
            assertEquals(fa.names(), fb.names());
            for (String n : fa.names()) {
                assertArrayEquals(fa.entry(n).shape().dims(), fb.entry(n).shape().dims(), n);
                assertEquals(fa.entry(n).dtype(), fb.entry(n).dtype(), n);
                if (fa.entry(n).dtype() == DType.F32) {
                    assertArrayEquals(fa.floats(n), fb.floats(n), n);
                }
            }
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<ConformanceRunner.Result> results;
        try (PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8)) {
            results = new StableAudioConformanceRunner(tiny, folder, Backends.cpu(), Set.of(), ps).run();
        }
        List<String> failed = results.stream().filter(r -> !r.pass()).map(ConformanceRunner.Result::name).toList();
        assertTrue(results.size() > 400, "records: " + results.size());
        assertEquals(List.of(), failed, () -> log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void badCheckpointsAreRefusedNamingTheProblem() throws Exception {
        Path tiny = TestData.conformanceCase("tiny-stable-audio");
        Path sat = writeStableAudioTools(tiny, tmp.resolve("sat"));
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        IllegalArgumentException noT5 = assertThrows(IllegalArgumentException.class,
                () -> StableAudioToolsCheckpoint.toDiffusersFolder(sat, null, out));
        assertTrue(noT5.getMessage().contains("--text-encoder") && noT5.getMessage().contains("t5-base"),
                noT5.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        CheckpointException noFiles = assertThrows(CheckpointException.class,
                () -> StableAudioToolsCheckpoint.toDiffusersFolder(sat, empty, out));
        assertTrue(noFiles.getMessage().contains("config.json"), noFiles.getMessage());

        String config = tinyModelConfig();
        for (String[] c : new String[][] {
                {"\"transformer_type\": \"continuous_transformer\"", "\"transformer_type\": \"x-transformers\"",
                        "transformer_type"},
                {"\"final_tanh\": false", "\"final_tanh\": true", "final_tanh"},
                {"\"type\": \"vae\"", "\"type\": \"dac_rvq\"", "bottleneck.type"},
                {"\"depth\": 2", "\"depth\": 3", "depth is 3 but the weights have 2"},
                {"\"embed_dim\": 32", "\"embed_dim\": 30", "multiple of num_heads"},
                {"{\"min_val\": 0, \"max_val\": 64}},", "{\"min_val\": 0, \"max_val\": 32}},", "different ranges"},
                {"\"cond_dim\": 32", "\"cond_dim\": 32, \"extra\": 1", "model.conditioning.extra"},
                {"\"downsampling_ratio\": 8", "\"downsampling_ratio\": 16", "product of the strides"},
                {"\"model_type\": \"diffusion_cond\"", "\"model_type\": \"autoencoder\"", "model_type"},
                {"\"strides\": [2, 4], \"latent_dim\": 16", "\"strides\": [2, 4.5], \"latent_dim\": 16", "strides[1]"}}) {
            String broken = config.replace(c[0], c[1]);
            assertTrue(!broken.equals(config), "the test's replacement applies: " + c[0]);
            Files.writeString(sat.resolve("model_config.json"), broken);
            Path o = Files.createDirectories(tmp.resolve("o" + Math.abs(c[2].hashCode())));
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> StableAudioToolsCheckpoint.toDiffusersFolder(sat, tiny, o), c[2]);
            assertTrue(e.getMessage().contains(c[2]), c[2] + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("model_config.json") || e.getMessage().contains("model.safetensors"),
                    e.getMessage());
        }
        Files.writeString(sat.resolve("model_config.json"), "{\"model_type\": ");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> StableAudioToolsCheckpoint.toDiffusersFolder(sat, tiny, out));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }
}
