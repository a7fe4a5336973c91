package org.euterpe.converter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonException;
import org.euterpe.tensor.safetensors.SafetensorsWriter;

/**
 * stable-audio-tools' own checkpoint of Stable Audio Open ({@code model.safetensors} or {@code model.ckpt}
 * beside {@code model_config.json}, what the Hugging Face repository also ships) turned into the diffusers
 * folder {@link Converter} converts, with the tensors diffusers' {@code scripts/convert_stable_audio.py}
 * (v0.32.2) maps them to:
 * <ul>
 *   <li>{@code model.model.*}: the DiT ({@code transformer/}). {@code layers.i.self_attn / cross_attn} are
 *       {@code transformer_blocks.i.attn1 / attn2}, the fused {@code to_qkv} split in three and {@code to_kv} in
 *       two, {@code pre_norm / cross_attend_norm / ff_norm} ({@code gamma}, {@code beta}) are
 *       {@code norm1 / norm2 / norm3} ({@code weight}, {@code bias}), {@code ff.ff} is {@code ff.net};
 *       {@code timestep_features} ({@code [n, 1]}) is {@code time_proj} ({@code [n]}), {@code to_timestep_embed},
 *       {@code to_global_embed}, {@code to_cond_embed} are {@code timestep_proj}, {@code global_proj},
 *       {@code cross_attention_proj}; {@code transformer.project_in/out} are {@code proj_in/out}. The rotary
 *       table's {@code inv_freq} buffer is dropped (the engine computes it).</li>
 *   <li>{@code pretransform.model.*}: the Oobleck VAE ({@code vae/}). {@code coder.layers.0} is {@code conv1},
 *       {@code layers.1..n} the blocks (encoder: three residual units, snake, conv; decoder: snake, transposed
 *       conv, three residual units), {@code layers.n+1} the final snake and {@code layers.n+2} {@code conv2};
 *       in a residual unit {@code layers.0..3} are {@code snake1, conv1, snake2, conv2}; snake parameters
 *       {@code [C]} become {@code [1, C, 1]}.</li>
 *   <li>{@code conditioner.conditioners.seconds_start / seconds_total.embedder.embedding.*}: the number
 *       conditioners of the projection model ({@code start_/end_number_conditioner.time_positional_embedding.*});
 *       a T5 output projection {@code prompt.proj_out} is {@code text_projection}.</li>
 * </ul>
 * The configs come from {@code model_config.json} as the script derives them; where the script fixes a value
 * that the weights carry (the key/value heads, the time projection width) the weights' value is used and the
 * config's is checked against them. Options the engine does not implement are refused by name.
 *
 * <p>The T5 text encoder is not in the checkpoint: stable-audio-tools loads {@code t5_model_name} (t5-base)
 * from Hugging Face by name. Its folder (the Hugging Face {@code t5-base} repository: {@code config.json},
 * {@code model.safetensors} or {@code pytorch_model.bin}, {@code spiece.model} or {@code tokenizer.json}), or a
 * diffusers pipeline folder with {@code text_encoder/} and {@code tokenizer/}, must be given; its decoder
 * weights are left out.
 */
public final class StableAudioToolsCheckpoint {
    /** The config file stable-audio-tools writes beside the weights. */
    public static final String CONFIG_FILE = "model_config.json";
    /** Weight file names, in order of preference. */
    public static final List<String> WEIGHT_FILES = List.of("model.safetensors", "model.ckpt");

    private StableAudioToolsCheckpoint() {
    }

    /** Whether {@code dir} looks like a stable-audio-tools checkpoint folder (config plus weights). */
    public static boolean isCheckpointFolder(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(CONFIG_FILE))
                && !Files.exists(dir.resolve("model_index.json"))
                && WEIGHT_FILES.stream().anyMatch(f -> Files.isRegularFile(dir.resolve(f)));
    }

    // ------------------------------------------------------------------ the config

    /**
     * What {@code model_config.json} says, checked. The derived diffusers configs still need the widths only
     * the weights carry ({@link #transformerConfig}).
     */
    public record Config(int sampleSize, int sampleRate, int audioChannels, String t5ModelName, int maxLength,
            double minSeconds, double maxSeconds, int condDim, int ioChannels, int embedDim, int depth, int numHeads,
            int condTokenDim, int globalCondDim, boolean projectCondTokens, int encoderChannels, int decoderChannels,
            int latentDim, int[] strides, int[] channelMults, int downsamplingRatio) {

        public int attentionHeadDim() {
            return embedDim / numHeads;
        }

        /** {@code sample_size / downsampling_ratio}: the DiT's latent frames. */
        public int latentFrames() {
            return sampleSize / downsamplingRatio;
        }
    }

    /**
     * Parses {@code model_config.json} (its text; {@code source} names it in errors): a conditional diffusion
     * model ({@code diffusion_cond}) with a {@code dit} / {@code continuous_transformer}, a T5 prompt and two
     * number conditioners ({@code seconds_start}, {@code seconds_total}), an Oobleck VAE pretransform. Anything
     * else (another model type, conditioner or transformer, an option that changes the architecture) is a
     * {@link CheckpointException} naming it.
     */
    public static Config parseConfig(String json, Path source) {
        try {
            return new ConfigReader(source).read(Json.parse(json, source.toString()));
        } catch (JsonException e) {
            throw new CheckpointException(source, "not valid JSON: " + e.getMessage(), e);
        }
    }

    /** Reads the config, every value type-checked, every unknown key of the architecture refused. */
    private static final class ConfigReader {
        private final Path source;

        ConfigReader(Path source) {
            this.source = source;
        }

        private CheckpointException bad(String problem) {
            return new CheckpointException(source, problem);
        }

        @SuppressWarnings("unchecked")
        private Map<String, Object> object(Object v, String where) {
            if (!(v instanceof Map<?, ?>)) {
                throw bad(where + " should be a JSON object, got " + describe(v));
            }
            return (Map<String, Object>) v;
        }

        private Object need(Map<String, Object> m, String key, String where) {
            Object v = m.get(key);
            if (v == null) {
                throw bad(where + " has no \"" + key + "\"");
            }
            return v;
        }

        private String string(Map<String, Object> m, String key, String where) {
            Object v = need(m, key, where);
            if (!(v instanceof String s)) {
                throw bad(where + "." + key + " should be a string, got " + describe(v));
            }
            return s;
        }

        private int positive(Map<String, Object> m, String key, String where) {
            return positiveValue(need(m, key, where), where + "." + key);
        }

        private int positiveValue(Object v, String where) {
            if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.doubleValue() < 1
                    || n.doubleValue() > (1 << 30)) {
                throw bad(where + " should be a positive integer, got " + describe(v));
            }
            return n.intValue();
        }

        private double number(Map<String, Object> m, String key, String where) {
            Object v = need(m, key, where);
            if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                throw bad(where + "." + key + " should be a finite number, got " + describe(v));
            }
            return n.doubleValue();
        }

        private boolean bool(Map<String, Object> m, String key, boolean dflt, String where) {
            Object v = m.get(key);
            if (v == null) {
                return dflt;
            }
            if (!(v instanceof Boolean b)) {
                throw bad(where + "." + key + " should be true or false, got " + describe(v));
            }
            return b;
        }

        private int[] positives(Map<String, Object> m, String key, String where) {
            Object v = need(m, key, where);
            if (!(v instanceof List<?> list) || list.isEmpty() || list.size() > 16) {
                throw bad(where + "." + key + " should be a list of 1 to 16 positive integers, got " + describe(v));
            }
            int[] out = new int[list.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = positiveValue(list.get(i), where + "." + key + "[" + i + "]");
            }
            return out;
        }

        /** Refuses keys outside {@code known}: an option the engine does not implement, named. */
        private void onlyKnown(Map<String, Object> m, Set<String> known, String where) {
            for (String k : m.keySet()) {
                if (!known.contains(k)) {
                    throw bad(where + "." + k + " is an option the engine does not implement (it knows "
                            + new java.util.TreeSet<>(known) + ")");
                }
            }
        }

        /** A value that must be {@code want} when present (an option whose other values are not implemented). */
        private void fixed(Map<String, Object> m, String key, Object want, String where) {
            Object v = m.get(key);
            if (v != null && !sameValue(v, want)) {
                throw bad(where + "." + key + " = " + describe(v) + " is not implemented (only " + describe(want)
                        + " is)");
            }
        }

        private static boolean sameValue(Object v, Object want) {
            if (v instanceof Number a && want instanceof Number b) {
                return a.doubleValue() == b.doubleValue();
            }
            return v.equals(want);
        }

        Config read(Object parsed) {
            Map<String, Object> top = object(parsed, "the top level");
            onlyKnown(top, Set.of("model_type", "sample_size", "sample_rate", "audio_channels", "model", "training"),
                    "model_config");
            String type = string(top, "model_type", "model_config");
            if (!type.equals("diffusion_cond")) {
                throw bad("model_type \"" + type + "\" is not implemented (Stable Audio Open is \"diffusion_cond\")");
            }
            int sampleSize = positive(top, "sample_size", "model_config");
            int sampleRate = positive(top, "sample_rate", "model_config");
            int audioChannels = positive(top, "audio_channels", "model_config");
            if (audioChannels > 2) {
                throw bad("audio_channels " + audioChannels + ": the Oobleck VAE here takes mono or stereo");
            }
            Map<String, Object> model = object(need(top, "model", "model_config"), "model");
            onlyKnown(model, Set.of("pretransform", "conditioning", "diffusion", "io_channels"), "model");

            // Conditioning: a T5 prompt and two number conditioners.
            Map<String, Object> cond = object(need(model, "conditioning", "model"), "model.conditioning");
            onlyKnown(cond, Set.of("configs", "cond_dim"), "model.conditioning");
            int condDim = positive(cond, "cond_dim", "model.conditioning");
            Object list = need(cond, "configs", "model.conditioning");
            if (!(list instanceof List<?> configs)) {
                throw bad("model.conditioning.configs should be a list, got " + describe(list));
            }
            Map<String, Map<String, Object>> byId = new LinkedHashMap<>();
            Map<String, String> types = new LinkedHashMap<>();
            for (int i = 0; i < configs.size(); i++) {
                String where = "model.conditioning.configs[" + i + "]";
                Map<String, Object> c = object(configs.get(i), where);
                onlyKnown(c, Set.of("id", "type", "config"), where);
                String id = string(c, "id", where);
                if (byId.containsKey(id)) {
                    throw bad(where + ": conditioner \"" + id + "\" appears twice");
                }
                types.put(id, string(c, "type", where));
                byId.put(id, object(need(c, "config", where), where + ".config"));
            }
            if (!byId.keySet().equals(Set.of("prompt", "seconds_start", "seconds_total"))) {
                throw bad("model.conditioning has the conditioners " + byId.keySet() + "; the engine implements"
                        + " exactly prompt (t5), seconds_start and seconds_total (number)");
            }
            if (!types.get("prompt").equals("t5")) {
                throw bad("conditioner prompt has type \"" + types.get("prompt") + "\"; only t5 is implemented");
            }
            Map<String, Object> t5 = byId.get("prompt");
            onlyKnown(t5, Set.of("t5_model_name", "max_length", "enable_grad", "project_out"), "prompt.config");
            fixed(t5, "enable_grad", false, "prompt.config");
            String t5Name = string(t5, "t5_model_name", "prompt.config");
            int maxLength = positive(t5, "max_length", "prompt.config");
            double[] range = null;
            for (String id : List.of("seconds_start", "seconds_total")) {
                if (!types.get(id).equals("number")) {
                    throw bad("conditioner " + id + " has type \"" + types.get(id) + "\"; only number is implemented");
                }
                Map<String, Object> n = byId.get(id);
                onlyKnown(n, Set.of("min_val", "max_val"), id + ".config");
                double min = number(n, "min_val", id + ".config");
                double max = number(n, "max_val", id + ".config");
                if (!(max > min)) {
                    throw bad(id + ".config: max_val " + max + " is not above min_val " + min);
                }
                if (range != null && (range[0] != min || range[1] != max)) {
                    // diffusers' StableAudioProjectionModel has one range for both
                    throw bad("seconds_start and seconds_total have different ranges [" + range[0] + ", " + range[1]
                            + "] and [" + min + ", " + max + "]; the projection model has one");
                }
                range = new double[] {min, max};
            }

            // The DiT.
            Map<String, Object> diffusion = object(need(model, "diffusion", "model"), "model.diffusion");
            onlyKnown(diffusion, Set.of("type", "config", "cross_attention_cond_ids", "global_cond_ids",
                    "diffusion_objective"), "model.diffusion");
            String dt = string(diffusion, "type", "model.diffusion");
            if (!dt.equals("dit")) {
                throw bad("model.diffusion.type \"" + dt + "\" is not implemented (only dit is)");
            }
            fixed(diffusion, "diffusion_objective", "v", "model.diffusion");
            ids(diffusion, "cross_attention_cond_ids", List.of("prompt", "seconds_start", "seconds_total"));
            ids(diffusion, "global_cond_ids", List.of("seconds_start", "seconds_total"));
            Map<String, Object> dit = object(need(diffusion, "config", "model.diffusion"), "model.diffusion.config");
            String w = "model.diffusion.config";
            onlyKnown(dit, Set.of("io_channels", "embed_dim", "depth", "num_heads", "cond_token_dim",
                    "global_cond_dim", "project_cond_tokens", "transformer_type", "patch_size", "input_concat_dim",
                    "prepend_cond_dim", "global_cond_type", "project_global_cond"), w);
            fixed(dit, "transformer_type", "continuous_transformer", w);
            fixed(dit, "patch_size", 1, w);
            fixed(dit, "input_concat_dim", 0, w);
            fixed(dit, "prepend_cond_dim", 0, w);
            fixed(dit, "global_cond_type", "prepend", w);
            fixed(dit, "project_global_cond", true, w);
            int ioChannels = positive(dit, "io_channels", w);
            int embedDim = positive(dit, "embed_dim", w);
            int depth = positive(dit, "depth", w);
            int heads = positive(dit, "num_heads", w);
            if (embedDim % heads != 0) {
                throw bad(w + ": embed_dim " + embedDim + " is not a multiple of num_heads " + heads);
            }
            int condTokenDim = positive(dit, "cond_token_dim", w);
            int globalCondDim = positive(dit, "global_cond_dim", w);
            boolean projectCond = bool(dit, "project_cond_tokens", true, w);
            if (model.get("io_channels") != null && positiveValue(model.get("io_channels"), "model.io_channels")
                    != ioChannels) {
                throw bad("model.io_channels differs from model.diffusion.config.io_channels " + ioChannels);
            }
            if (globalCondDim != 2 * condDim) {
                throw bad(w + ".global_cond_dim " + globalCondDim + " is not twice cond_dim " + condDim
                        + " (the two seconds conditioners, concatenated)");
            }

            // The Oobleck VAE.
            Map<String, Object> pre = object(need(model, "pretransform", "model"), "model.pretransform");
            onlyKnown(pre, Set.of("type", "config", "iterate_batch", "model_half", "chunked"), "model.pretransform");
            String pt = string(pre, "type", "model.pretransform");
            if (!pt.equals("autoencoder")) {
                throw bad("model.pretransform.type \"" + pt + "\" is not implemented (only autoencoder is)");
            }
            Map<String, Object> ae = object(need(pre, "config", "model.pretransform"), "model.pretransform.config");
            String a = "model.pretransform.config";
            onlyKnown(ae, Set.of("encoder", "decoder", "bottleneck", "latent_dim", "downsampling_ratio", "io_channels",
                    "scale"), a);
            fixed(ae, "scale", 1, a);
            Map<String, Object> bottleneck = object(need(ae, "bottleneck", a), a + ".bottleneck");
            onlyKnown(bottleneck, Set.of("type", "config"), a + ".bottleneck");
            String bt = string(bottleneck, "type", a + ".bottleneck");
            if (!bt.equals("vae")) {
                throw bad(a + ".bottleneck.type \"" + bt + "\" is not implemented (only vae is)");
            }
            int latentDim = positive(ae, "latent_dim", a);
            int ratio = positive(ae, "downsampling_ratio", a);
            int aeChannels = positive(ae, "io_channels", a);
            Map<String, Object> enc = coder(ae, "encoder", "in_channels", a);
            Map<String, Object> dec = coder(ae, "decoder", "out_channels", a);
            int[] strides = positives(enc, "strides", a + ".encoder.config");
            int[] mults = positives(enc, "c_mults", a + ".encoder.config");
            if (strides.length != mults.length) {
                throw bad(a + ".encoder.config: " + strides.length + " strides but " + mults.length + " c_mults");
            }
            if (!java.util.Arrays.equals(strides, positives(dec, "strides", a + ".decoder.config"))
                    || !java.util.Arrays.equals(mults, positives(dec, "c_mults", a + ".decoder.config"))) {
                throw bad(a + ": the decoder's strides and c_mults differ from the encoder's (diffusers' Oobleck"
                        + " mirrors them)");
            }
            long hop = 1;
            for (int s : strides) {
                hop = Math.multiplyExact(hop, (long) s);
                if (hop > (1 << 30)) {
                    throw bad(a + ".encoder.config.strides multiply past 2^30");
                }
            }
            if (hop != ratio) {
                throw bad(a + ".downsampling_ratio " + ratio + " is not the product of the strides (" + hop + ")");
            }
            int encLatent = positive(enc, "latent_dim", a + ".encoder.config");
            int decLatent = positive(dec, "latent_dim", a + ".decoder.config");
            if (decLatent != latentDim || encLatent != 2 * latentDim) {
                throw bad(a + ": a vae bottleneck needs encoder latent_dim = 2 x latent_dim and decoder latent_dim ="
                        + " latent_dim; got " + encLatent + ", " + decLatent + " and " + latentDim);
            }
            if (latentDim != ioChannels) {
                throw bad("the VAE's latent_dim " + latentDim + " differs from the DiT's io_channels " + ioChannels);
            }
            if (positive(enc, "in_channels", a + ".encoder.config") != audioChannels
                    || positive(dec, "out_channels", a + ".decoder.config") != audioChannels
                    || aeChannels != audioChannels) {
                throw bad(a + ": the encoder's in_channels, the decoder's out_channels and io_channels must all be"
                        + " audio_channels " + audioChannels);
            }
            if (sampleSize % ratio != 0) {
                throw bad("sample_size " + sampleSize + " is not a multiple of the downsampling ratio " + ratio);
            }
            return new Config(sampleSize, sampleRate, audioChannels, t5Name, maxLength, range[0], range[1], condDim,
                    ioChannels, embedDim, depth, heads, condTokenDim, globalCondDim, projectCond,
                    positive(enc, "channels", a + ".encoder.config"), positive(dec, "channels", a + ".decoder.config"),
                    latentDim, strides, mults, ratio);
        }

        private void ids(Map<String, Object> diffusion, String key, List<String> want) {
            Object v = diffusion.get(key);
            if (v != null && !want.equals(v)) {
                throw bad("model.diffusion." + key + " = " + describe(v) + " is not implemented (Stable Audio Open's "
                        + want + " is)");
            }
        }

        /** An Oobleck encoder or decoder section, its options checked. */
        private Map<String, Object> coder(Map<String, Object> ae, String which, String ioKey, String a) {
            Map<String, Object> c = object(need(ae, which, a), a + "." + which);
            onlyKnown(c, Set.of("type", "config", "requires_grad"), a + "." + which);
            String t = string(c, "type", a + "." + which);
            if (!t.equals("oobleck")) {
                throw bad(a + "." + which + ".type \"" + t + "\" is not implemented (only oobleck is)");
            }
            Map<String, Object> cfg = object(need(c, "config", a + "." + which), a + "." + which + ".config");
            String w = a + "." + which + ".config";
            onlyKnown(cfg, Set.of(ioKey, "channels", "c_mults", "strides", "latent_dim", "use_snake", "final_tanh",
                    "antialias_activation", "use_nearest_upsample"), w);
            fixed(cfg, "use_snake", true, w);
            fixed(cfg, "final_tanh", false, w);
            fixed(cfg, "antialias_activation", false, w);
            fixed(cfg, "use_nearest_upsample", false, w);
            return cfg;
        }

        private static String describe(Object v) {
            if (v == null) {
                return "null";
            }
            String s = v instanceof String str ? "\"" + str + "\"" : String.valueOf(v);
            return s.length() > 60 ? s.substring(0, 60) + "..." : s;
        }
    }

    // ------------------------------------------------------------------ the key mapping

    private static final Pattern DIT_LAYER = Pattern.compile("transformer\\.layers\\.(\\d{1,6})\\.(.+)");
    private static final Map<String, String> DIT_LAYER_PARTS = Map.ofEntries(
            Map.entry("self_attn.to_out.weight", "attn1.to_out.0.weight"),
            Map.entry("cross_attn.to_q.weight", "attn2.to_q.weight"),
            Map.entry("cross_attn.to_out.weight", "attn2.to_out.0.weight"),
            Map.entry("pre_norm.gamma", "norm1.weight"), Map.entry("pre_norm.beta", "norm1.bias"),
            Map.entry("cross_attend_norm.gamma", "norm2.weight"), Map.entry("cross_attend_norm.beta", "norm2.bias"),
            Map.entry("ff_norm.gamma", "norm3.weight"), Map.entry("ff_norm.beta", "norm3.bias"),
            Map.entry("ff.ff.0.proj.weight", "ff.net.0.proj.weight"), Map.entry("ff.ff.0.proj.bias", "ff.net.0.proj.bias"),
            Map.entry("ff.ff.2.weight", "ff.net.2.weight"), Map.entry("ff.ff.2.bias", "ff.net.2.bias"));
    private static final Map<String, String> DIT_PREFIXES = Map.of("to_timestep_embed.", "timestep_proj.",
            "to_global_embed.", "global_proj.", "to_cond_embed.", "cross_attention_proj.",
            "transformer.project_in.", "proj_in.", "transformer.project_out.", "proj_out.",
            "preprocess_conv.", "preprocess_conv.", "postprocess_conv.", "postprocess_conv.");

    /**
     * The diffusers names of a DiT key (after {@code model.model.}): one, or three / two for a fused
     * {@code to_qkv} / {@code to_kv}; empty for a buffer the engine recomputes.
     */
    static List<String> ditNames(Path file, String key) {
        if (key.equals("timestep_features.weight")) {
            return List.of("time_proj.weight");
        }
        if (key.equals("transformer.rotary_pos_emb.inv_freq")) {
            return List.of(); // the engine computes the rotary table from the config
        }
        Matcher m = DIT_LAYER.matcher(key);
        if (m.matches()) {
            String p = "transformer_blocks." + Integer.parseInt(m.group(1)) + ".";
            String rest = m.group(2);
            if (rest.equals("self_attn.to_qkv.weight")) {
                return List.of(p + "attn1.to_q.weight", p + "attn1.to_k.weight", p + "attn1.to_v.weight");
            }
            if (rest.equals("cross_attn.to_kv.weight")) {
                return List.of(p + "attn2.to_k.weight", p + "attn2.to_v.weight");
            }
            String to = DIT_LAYER_PARTS.get(rest);
            if (to != null) {
                return List.of(p + to);
            }
        } else {
            for (Map.Entry<String, String> e : DIT_PREFIXES.entrySet()) {
                if (key.startsWith(e.getKey()) && key.substring(e.getKey().length()).matches("(\\d+\\.)?(weight|bias)")) {
                    return List.of(e.getValue() + key.substring(e.getKey().length()));
                }
            }
        }
        throw new CheckpointException(file, "cannot place DiT weight \"model.model." + key + "\" (a layer or option"
                + " the engine does not implement)");
    }

    private static final Pattern AE_LAYER = Pattern.compile("(encoder|decoder)\\.layers\\.(\\d+)\\.(.+)");
    private static final Pattern RES_UNIT = Pattern.compile("layers\\.([0-4])\\.layers\\.([0-3])\\.(.+)");
    private static final Pattern BLOCK_PART = Pattern.compile("layers\\.([0-4])\\.(.+)");
    private static final String[] RES_PARTS = {"snake1", "conv1", "snake2", "conv2"};

    /** The diffusers name of an Oobleck key (after {@code pretransform.model.}), given the number of blocks. */
    static String vaeName(Path file, String key, int blocks) {
        Matcher m = AE_LAYER.matcher(key);
        if (m.matches()) {
            String coder = m.group(1);
            long idx = Long.parseLong(m.group(2).length() > 9 ? "-1" : m.group(2));
            String rest = m.group(3);
            String name = null;
            if (idx == 0) {
                name = coder + ".conv1." + rest;
            } else if (idx == blocks + 1) {
                name = coder + ".snake1." + rest;
            } else if (idx == blocks + 2) {
                name = coder + ".conv2." + rest;
            } else if (idx >= 1 && idx <= blocks) {
                String block = coder + ".block." + (idx - 1) + ".";
                Matcher r = RES_UNIT.matcher(rest);
                Matcher b = BLOCK_PART.matcher(rest);
                if (r.matches()) {
                    int layer = Integer.parseInt(r.group(1));
                    int unit = coder.equals("encoder") ? layer : layer - 2; // decoder: snake, conv_t, then the units
                    if (unit >= 0 && unit <= 2) {
                        name = block + "res_unit" + (unit + 1) + "." + RES_PARTS[Integer.parseInt(r.group(2))] + "."
                                + r.group(3);
                    }
                } else if (b.matches()) {
                    int layer = Integer.parseInt(b.group(1));
                    String part = coder.equals("encoder") ? (layer == 3 ? "snake1" : layer == 4 ? "conv1" : null)
                            : (layer == 0 ? "snake1" : layer == 1 ? "conv_t1" : null);
                    if (part != null) {
                        name = block + part + "." + b.group(2);
                    }
                }
            }
            if (name != null && name.matches(".*\\.(alpha|beta|bias|weight_g|weight_v)")) {
                return name;
            }
        }
        throw new CheckpointException(file, "cannot place VAE weight \"pretransform.model." + key + "\" (with "
                + blocks + " blocks: a layer or option the engine does not implement)");
    }

    private static final Pattern NUMBER = Pattern.compile(
            "(seconds_start|seconds_total)\\.embedder\\.embedding\\.(0\\.weights|1\\.weight|1\\.bias)");

    /** The diffusers name of a conditioner key (after {@code conditioner.conditioners.}). */
    static String projectionName(Path file, String key) {
        Matcher m = NUMBER.matcher(key);
        if (m.matches()) {
            return (m.group(1).equals("seconds_start") ? "start" : "end") + "_number_conditioner.time_positional_embedding."
                    + m.group(2);
        }
        if (key.equals("prompt.proj_out.weight") || key.equals("prompt.proj_out.bias")) {
            return "text_projection." + key.substring("prompt.proj_out.".length());
        }
        throw new CheckpointException(file, "cannot place conditioner weight \"conditioner.conditioners." + key + "\"");
    }

    // ------------------------------------------------------------------ the folder

    /** One tensor of a component being written: its diffusers name, shape and bytes. */
    private record Out(String name, DType dtype, int[] shape, MemorySegment bytes) {
    }

    /**
     * Writes the diffusers folder of the stable-audio-tools checkpoint in {@code checkpointDir} into {@code dir}
     * (which must exist and be empty).
     *
     * @param textEncoder the T5 encoder and its tokenizer: a Hugging Face T5 folder or a diffusers pipeline
     *                    folder with {@code text_encoder/} and {@code tokenizer/}; null is refused, naming what
     *                    is needed
     */
    public static void toDiffusersFolder(Path checkpointDir, Path textEncoder, Path dir) throws IOException {
        Path configFile = checkpointDir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException(checkpointDir, "no " + CONFIG_FILE + ": not a stable-audio-tools checkpoint");
        }
        if (Files.size(configFile) > (1 << 20)) {
            throw new CheckpointException(configFile, "a config of " + Files.size(configFile) + " bytes is too large");
        }
        Config config = parseConfig(Files.readString(configFile), configFile);
        Path weights = WEIGHT_FILES.stream().map(checkpointDir::resolve).filter(Files::isRegularFile).findFirst()
                .orElseThrow(() -> new CheckpointException(checkpointDir, "no " + String.join(" or ", WEIGHT_FILES)));
        T5Files t5 = t5Files(textEncoder, config);

        Map<String, List<Out>> components = new LinkedHashMap<>();
        components.put("transformer", new ArrayList<>());
        components.put("vae", new ArrayList<>());
        components.put("projection_model", new ArrayList<>());
        try (CheckpointReader in = CheckpointReader.open(weights)) {
            for (String key : in.names()) {
                CheckpointReader.TensorInfo info = in.info(key);
                if (info.dtype() != DType.F32 && info.dtype() != DType.F16 && info.dtype() != DType.BF16) {
                    throw new CheckpointException(weights, "tensor \"" + key + "\" is " + info.dtype()
                            + "; the weights must be floating point");
                }
                int[] dims = info.shape().dims();
                MemorySegment bytes = in.bytes(key);
                if (key.startsWith("model.model.")) {
                    List<String> names = ditNames(weights, key.substring("model.model.".length()));
                    if (names.size() == 1 && names.get(0).equals("time_proj.weight")) {
                        if (dims.length != 2 || dims[1] != 1) {
                            throw new CheckpointException(weights, "\"" + key + "\" should be [n, 1], is "
                                    + info.shape());
                        }
                        dims = new int[] {dims[0]};
                    }
                    split(weights, key, info.dtype(), dims, bytes, names, components.get("transformer"));
                } else if (key.startsWith("pretransform.model.")) {
                    String name = vaeName(weights, key.substring("pretransform.model.".length()),
                            config.strides().length);
                    if (name.endsWith(".alpha") || name.endsWith(".beta")) {
                        if (dims.length != 1) {
                            throw new CheckpointException(weights, "snake parameter \"" + key + "\" should be [C], is "
                                    + info.shape());
                        }
                        dims = new int[] {1, dims[0], 1};
                    }
                    components.get("vae").add(new Out(name, info.dtype(), dims, bytes));
                } else if (key.startsWith("conditioner.conditioners.")) {
                    String name = projectionName(weights, key.substring("conditioner.conditioners.".length()));
                    components.get("projection_model").add(new Out(name, info.dtype(), dims, bytes));
                } else {
                    throw new CheckpointException(weights, "unexpected tensor \"" + key + "\" (a stable-audio-tools"
                            + " Stable Audio checkpoint has model.model.*, pretransform.model.* and"
                            + " conditioner.conditioners.*)");
                }
            }
            Map<String, int[]> dit = new LinkedHashMap<>();
            for (Out o : components.get("transformer")) {
                dit.put(o.name(), o.shape());
            }
            if (components.get("projection_model").isEmpty() || dit.isEmpty() || components.get("vae").isEmpty()) {
                throw new CheckpointException(weights, "the checkpoint lacks the DiT, the VAE or the seconds"
                        + " conditioners (found " + components.get("transformer").size() + ", "
                        + components.get("vae").size() + " and " + components.get("projection_model").size()
                        + " tensors)");
            }
            String transformerConfig = transformerConfig(weights, config, dit);
            for (Map.Entry<String, List<Out>> e : components.entrySet()) {
                Path c = dir.resolve(e.getKey());
                Files.createDirectories(c);
                SafetensorsWriter w = new SafetensorsWriter();
                Set<String> seen = new java.util.HashSet<>();
                for (Out o : e.getValue()) {
                    if (!seen.add(o.name())) {
                        throw new CheckpointException(weights, "two tensors map to " + e.getKey() + " \"" + o.name()
                                + "\"");
                    }
                    w.add(o.name(), o.dtype(), Shape.of(o.shape()), o.bytes());
                }
                w.write(c.resolve("diffusion_pytorch_model.safetensors"));
            }
            write(dir.resolve("transformer/config.json"), transformerConfig);
        }
        write(dir.resolve("vae/config.json"), Json.writePretty(ordered(
                "_class_name", "AutoencoderOobleck", "_diffusers_version", "0.32.2",
                "audio_channels", config.audioChannels(), "channel_multiples", ints(config.channelMults()),
                "decoder_channels", config.decoderChannels(), "decoder_input_channels", config.latentDim(),
                "downsampling_ratios", ints(config.strides()), "encoder_hidden_size", config.encoderChannels(),
                "sampling_rate", config.sampleRate())));
        write(dir.resolve("projection_model/config.json"), Json.writePretty(ordered(
                "_class_name", "StableAudioProjectionModel", "_diffusers_version", "0.32.2",
                "conditioning_dim", config.condDim(), "max_value", number(config.maxSeconds()),
                "min_value", number(config.minSeconds()), "text_encoder_dim", t5.dModel())));
        // convert_stable_audio.py's scheduler; the rest are CosineDPMSolverMultistepScheduler's defaults
        Files.createDirectories(dir.resolve("scheduler"));
        write(dir.resolve("scheduler/scheduler_config.json"), """
                {
                  "_class_name": "CosineDPMSolverMultistepScheduler",
                  "_diffusers_version": "0.32.2",
                  "euler_at_final": false,
                  "final_sigmas_type": "zero",
                  "lower_order_final": true,
                  "num_train_timesteps": 1000,
                  "prediction_type": "v_prediction",
                  "rho": 7.0,
                  "sigma_data": 1.0,
                  "sigma_max": 500,
                  "sigma_min": 0.3,
                  "sigma_schedule": "exponential",
                  "solver_order": 2,
                  "solver_type": "midpoint"
                }
                """);
        writeT5(t5, config, dir);
        write(dir.resolve("model_index.json"), """
                {
                  "_class_name": "StableAudioPipeline",
                  "_diffusers_version": "0.32.2",
                  "projection_model": ["stable_audio", "StableAudioProjectionModel"],
                  "scheduler": ["diffusers", "CosineDPMSolverMultistepScheduler"],
                  "text_encoder": ["transformers", "T5EncoderModel"],
                  "tokenizer": ["transformers", "T5Tokenizer"],
                  "transformer": ["diffusers", "StableAudioDiTModel"],
                  "vae": ["diffusers", "AutoencoderOobleck"]
                }
                """);
    }

    /** Splits a fused projection along its rows into {@code names.size()} equal parts. */
    private static void split(Path file, String key, DType dtype, int[] dims, MemorySegment bytes, List<String> names,
            List<Out> out) {
        if (names.isEmpty()) {
            return;
        }
        if (dims.length == 0 || dims[0] % names.size() != 0) {
            throw new CheckpointException(file, "\"" + key + "\" " + java.util.Arrays.toString(dims)
                    + " cannot be split into " + names.size());
        }
        long part = bytes.byteSize() / names.size();
        for (int i = 0; i < names.size(); i++) {
            int[] d = dims.clone();
            d[0] = dims[0] / names.size();
            out.add(new Out(names.get(i), dtype, d, bytes.asSlice(i * part, part)));
        }
    }

    /**
     * The StableAudioDiTModel config: from model_config.json as the script derives it, except the key/value
     * heads and the time projection width, which the script fixes (12, 256) and the weights carry; every
     * config value the weights also carry is checked against them.
     */
    static String transformerConfig(Path file, Config c, Map<String, int[]> dit) {
        int head = c.attentionHeadDim();
        int[] toK = need(file, dit, "transformer_blocks.0.attn2.to_k.weight", 2);
        int[] time = need(file, dit, "time_proj.weight", 1);
        int[] projIn = need(file, dit, "proj_in.weight", 2);
        int[] cond0 = need(file, dit, "cross_attention_proj.0.weight", 2);
        int[] global0 = need(file, dit, "global_proj.0.weight", 2);
        int layers = 0;
        while (dit.containsKey("transformer_blocks." + layers + ".norm1.weight")) {
            layers++;
        }
        check(file, "depth", c.depth(), layers, "transformer blocks in the weights");
        check(file, "embed_dim", c.embedDim(), projIn[0], "proj_in's rows");
        check(file, "io_channels", c.ioChannels(), projIn[1], "proj_in's columns");
        check(file, "cond_token_dim", c.condTokenDim(), cond0[1], "to_cond_embed.0's columns");
        check(file, "global_cond_dim", c.globalCondDim(), global0[1], "to_global_embed.0's columns");
        if (!c.projectCondTokens()) {
            check(file, "cond_token_dim (project_cond_tokens false)", c.condTokenDim(), cond0[0],
                    "to_cond_embed.0's rows");
        }
        if (toK[0] % head != 0) {
            throw new CheckpointException(file, "the cross-attention's key width " + toK[0] + " is not a multiple of"
                    + " the head width " + head);
        }
        return Json.writePretty(ordered("_class_name", "StableAudioDiTModel", "_diffusers_version", "0.32.2",
                "attention_head_dim", head, "cross_attention_dim", cond0[0],
                "cross_attention_input_dim", c.condTokenDim(), "global_states_input_dim", c.globalCondDim(),
                "in_channels", c.ioChannels(), "num_attention_heads", c.numHeads(),
                "num_key_value_attention_heads", toK[0] / head, "num_layers", c.depth(),
                "out_channels", c.ioChannels(), "sample_size", c.latentFrames(), "time_proj_dim", 2 * time[0]));
    }

    private static int[] need(Path file, Map<String, int[]> dit, String name, int rank) {
        int[] d = dit.get(name);
        if (d == null || d.length != rank) {
            throw new CheckpointException(file, "the DiT weights have no " + name + " of rank " + rank);
        }
        return d;
    }

    private static void check(Path file, String key, int config, int weights, String what) {
        if (config != weights) {
            throw new CheckpointException(file, "model_config.json's " + key + " is " + config + " but the weights"
                    + " have " + weights + " (" + what + ")");
        }
    }

    // ------------------------------------------------------------------ T5

    /** The text encoder's config and weights and the tokenizer's files. */
    private record T5Files(Path config, Path weights, Path tokenizerDir, int dModel) {
    }

    private static T5Files t5Files(Path given, Config config) throws IOException {
        String need = "model_config.json's prompt conditioner is the Hugging Face T5 \"" + config.t5ModelName()
                + "\", whose weights stable-audio-tools does not store in model.safetensors; give its folder"
                + " (config.json, model.safetensors or pytorch_model.bin, spiece.model or tokenizer.json), or a"
                + " diffusers Stable Audio folder whose text_encoder/ and tokenizer/ to use, with --text-encoder DIR";
        if (given == null) {
            throw new IllegalArgumentException(need);
        }
        if (!Files.isDirectory(given)) {
            throw new IllegalArgumentException("--text-encoder " + given + " is not a folder. " + need);
        }
        Path enc = Files.isDirectory(given.resolve("text_encoder")) ? given.resolve("text_encoder") : given;
        Path tok = Files.isDirectory(given.resolve("tokenizer")) ? given.resolve("tokenizer") : given;
        Path cfg = enc.resolve("config.json");
        if (!Files.isRegularFile(cfg)) {
            throw new CheckpointException(enc, "no config.json for the T5 text encoder. " + need);
        }
        Path weights = List.of("model.safetensors", "pytorch_model.bin").stream().map(enc::resolve)
                .filter(Files::isRegularFile).findFirst()
                .orElseThrow(() -> new CheckpointException(enc, "no model.safetensors or pytorch_model.bin for the T5"
                        + " text encoder. " + need));
        if (!Files.isRegularFile(tok.resolve("spiece.model")) && !Files.isRegularFile(tok.resolve("tokenizer.json"))) {
            throw new CheckpointException(tok, "no spiece.model or tokenizer.json for the T5 tokenizer. " + need);
        }
        if (Files.size(cfg) > (1 << 20)) {
            throw new CheckpointException(cfg, "too large for a config");
        }
        Object parsed;
        try {
            parsed = Json.parse(Files.readString(cfg), cfg.toString());
        } catch (JsonException e) {
            throw new CheckpointException(cfg, "not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> m) || !(m.get("d_model") instanceof Number d) || d.intValue() < 1) {
            throw new CheckpointException(cfg, "not a T5 config (no positive d_model)");
        }
        return new T5Files(cfg, weights, tok, d.intValue());
    }

    /**
     * text_encoder/: the config and the encoder's weights (shared embedding and encoder.*; a full T5's
     * decoder and lm_head are left out); tokenizer/: its files, model_max_length the conditioner's max_length
     * (as the script passes it).
     */
    private static void writeT5(T5Files t5, Config config, Path dir) throws IOException {
        Path enc = dir.resolve("text_encoder");
        Files.createDirectories(enc);
        Files.copy(t5.config(), enc.resolve("config.json"));
        try (CheckpointReader in = CheckpointReader.open(t5.weights())) {
            SafetensorsWriter w = new SafetensorsWriter();
            int kept = 0;
            for (String key : in.names()) {
                if (key.startsWith("decoder.") || key.startsWith("lm_head.")) {
                    continue;
                }
                CheckpointReader.TensorInfo info = in.info(key);
                w.add(key, info.dtype(), info.shape(), in.bytes(key));
                kept++;
            }
            if (kept == 0) {
                throw new CheckpointException(t5.weights(), "no T5 encoder weights");
            }
            w.write(enc.resolve("model.safetensors"));
        }
        Path tok = dir.resolve("tokenizer");
        Files.createDirectories(tok);
        Map<String, Object> tokConfig = new TreeMap<>();
        try (var files = Files.list(t5.tokenizerDir())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String n = f.getFileName().toString();
                if (n.equals("tokenizer_config.json")) {
                    if (Files.size(f) > (16 << 20)) {
                        throw new CheckpointException(f, "too large for a tokenizer config");
                    }
                    Object parsed;
                    try {
                        parsed = Json.parse(Files.readString(f), f.toString());
                    } catch (JsonException e) {
                        throw new CheckpointException(f, "not valid JSON: " + e.getMessage(), e);
                    }
                    if (!(parsed instanceof Map<?, ?> m)) {
                        throw new CheckpointException(f, "not a JSON object");
                    }
                    m.forEach((k, v) -> tokConfig.put((String) k, v));
                } else if (n.equals("spiece.model") || n.equals("tokenizer.json") || n.equals("special_tokens_map.json")
                        || n.equals("added_tokens.json")) {
                    Files.copy(f, tok.resolve(n));
                }
            }
        }
        tokConfig.put("model_max_length", config.maxLength());
        write(tok.resolve("tokenizer_config.json"), Json.writePretty(tokConfig));
    }

    // ------------------------------------------------------------------ helpers

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static List<Object> ints(int[] values) {
        List<Object> out = new ArrayList<>();
        for (int v : values) {
            out.add((long) v);
        }
        return out;
    }

    private static Object number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? (Object) (long) v : (Object) v;
    }
}
