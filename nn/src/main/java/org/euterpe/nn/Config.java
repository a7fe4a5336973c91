package org.euterpe.nn;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import org.euterpe.tensor.json.JsonObject;

/**
 * A component's {@code config.json}, read strictly: each model's config record reads the keys
 * it understands through this class, then {@link #finish()} rejects any key that was neither
 * read nor listed in {@link #IGNORED}. A config option the engine does not implement therefore
 * fails at load time with its name, instead of silently running a different model.
 */
public final class Config {
    /**
     * Keys that never change the computation: bookkeeping written by diffusers / transformers,
     * and training-only settings. This is the one place such keys are listed.
     */
    public static final Set<String> IGNORED = Set.of(
            "_class_name", "_diffusers_version", "_name_or_path", "_commit_hash", "_use_default_values",
            "architectures", "transformers_version", "torch_dtype", "model_type",
            // training only
            "dropout", "attention_dropout", "hidden_dropout_prob", "attention_probs_dropout_prob",
            "initializer_range", "initializer_factor", "gradient_checkpointing", "use_cache",
            // generation / tokenizer bookkeeping in transformers configs
            "bos_token_id", "eos_token_id", "pad_token_id", "chunk_size_feed_forward", "return_dict",
            "output_hidden_states", "output_attentions", "tie_word_embeddings",
            "is_encoder_decoder", "problem_type", "id2label", "label2id",
            "finetuning_task", "tokenizer_class", "prefix", "task_specific_params", "torchscript",
            "use_bfloat16", "pruned_heads", "tf_legacy_loss", "cross_attention_hidden_size",
            "decoder_start_token_id", "sep_token_id", "forced_bos_token_id", "forced_eos_token_id",
            "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
            "begin_suppress_tokens", "max_length", "min_length", "do_sample", "early_stopping", "num_beams",
            "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p", "typical_p",
            "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size",
            "bad_words_ids", "num_return_sequences", "output_scores", "return_dict_in_generate",
            "forced_decoder_ids");

    private final JsonObject json;
    private final Set<String> read = new HashSet<>();

    public Config(JsonObject json) {
        this.json = json;
    }

    /** Where the config came from, for messages. */
    public String context() {
        return json.context();
    }

    public boolean has(String key) {
        read.add(key);
        return json.has(key);
    }

    public int getInt(String key) {
        read.add(key);
        return json.getInt(key);
    }

    public int optInt(String key, int dflt) {
        read.add(key);
        return json.optInt(key, dflt);
    }

    public double getDouble(String key) {
        read.add(key);
        return json.getDouble(key);
    }

    public double optDouble(String key, double dflt) {
        read.add(key);
        return json.optDouble(key, dflt);
    }

    public boolean optBoolean(String key, boolean dflt) {
        read.add(key);
        return json.optBoolean(key, dflt);
    }

    public String getString(String key) {
        read.add(key);
        return json.getString(key);
    }

    public String optString(String key, String dflt) {
        read.add(key);
        return json.optString(key, dflt);
    }

    public int[] getIntArray(String key) {
        read.add(key);
        return json.getIntArray(key);
    }

    public List<String> getStringList(String key) {
        read.add(key);
        return json.getStringList(key);
    }

    /**
     * An option diffusers accepts as one int for every block or as a list with one int per block:
     * {@code count} values, {@code dflt} repeated when the key is absent.
     */
    public int[] intOrList(String key, int count, int dflt) {
        read.add(key);
        Object v = json.raw(key);
        int[] out = new int[count];
        if (v == null || v instanceof Number) {
            java.util.Arrays.fill(out, v == null ? dflt : json.getInt(key));
            return out;
        }
        int[] list = json.getIntArray(key);
        if (list.length != count) {
            throw new ModelLoadException(context() + ": " + key + " has " + list.length + " entries, expected " + count);
        }
        return list;
    }

    /** The raw value (number, string, list, map, boolean or null). */
    public Object raw(String key) {
        read.add(key);
        return json.raw(key);
    }

    /**
     * The nested object {@code key} (e.g. {@code text_config}) as a strict config of its own,
     * to be {@link #finish() finished} separately; an empty one when absent.
     */
    public Config object(String key) {
        read.add(key);
        if (!json.has(key)) {
            return new Config(new JsonObject(java.util.Map.of(), context() + "." + key));
        }
        return new Config(json.getObject(key));
    }

    /**
     * Accepts {@code key} only when absent or equal to one of {@code supported} (null matches an
     * absent key or JSON null); otherwise names the unsupported option.
     */
    public void require(String key, Object... supported) {
        read.add(key);
        Object v = json.raw(key);
        for (Object s : supported) {
            if (Objects.equals(normalise(v), normalise(s))) {
                return;
            }
        }
        throw new ModelLoadException(context() + ": unsupported " + key + " = " + v + " (supported: "
                + java.util.Arrays.toString(supported) + ")");
    }

    private static Object normalise(Object v) {
        return v instanceof Number n ? (Object) n.doubleValue() : v;
    }

    /** Fails on any key that was not read and is not in {@link #IGNORED}. */
    public void finish() {
        Set<String> unknown = new TreeSet<>();
        for (String k : json.map().keySet()) {
            if (!read.contains(k) && !IGNORED.contains(k)) {
                unknown.add(k);
            }
        }
        if (!unknown.isEmpty()) {
            throw new ModelLoadException(context() + ": unknown config key(s) " + unknown);
        }
    }
}
