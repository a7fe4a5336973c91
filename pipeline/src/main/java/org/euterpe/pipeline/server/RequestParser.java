package org.euterpe.pipeline.server;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;

import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.scheduler.SamplerKind;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonException;

/**
 * Reads the body of {@code POST /v1/audio/generations}: strict UTF-8 JSON, one object with
 * {@code prompt} (required) and optionally {@code negative_prompt, seconds, steps, guidance, seed,
 * sampler, count, format}. Unknown fields, wrong types and values beyond the {@link Limits} are
 * {@link ApiError}s (400) naming the field; nothing else escapes.
 */
public final class RequestParser {
    static final Set<String> FIELDS = Set.of("prompt", "negative_prompt", "seconds", "steps", "guidance", "seed",
            "sampler", "count", "format");
    /** The largest integer every JSON reader holds exactly (2^53 - 1). */
    static final long MAX_SEED = (1L << 53) - 1;
    private static final SecureRandom SEEDS = new SecureRandom();

    private RequestParser() {
    }

    /** The fields of {@code POST /v1/audio/variations}' {@code request} part beyond a generation's. */
    static final Set<String> SOURCE_FIELDS = Set.of("strength", "mask_start", "mask_end", "extend_seconds");

    public static JobSpec parse(byte[] body, Limits limits) {
        return spec(object(body, limits, FIELDS), limits);
    }

    /**
     * The {@code request} part of a variation: a generation's fields plus exactly one of {@code strength}
     * (regenerate), {@code mask_start} with {@code mask_end} (inpaint) or {@code extend_seconds} (continue).
     */
    public static JobSpec parseVariation(byte[] body, WavReader.Audio audio, Limits limits) {
        Set<String> fields = new java.util.HashSet<>(FIELDS);
        fields.addAll(SOURCE_FIELDS);
        Map<?, ?> map = object(body, limits, fields);
        JobSpec spec = spec(map, limits);
        Double strength = number(map, "strength");
        Double maskStart = number(map, "mask_start");
        Double maskEnd = number(map, "mask_end");
        Double extend = number(map, "extend_seconds");
        int modes = (strength != null ? 1 : 0) + (maskStart != null || maskEnd != null ? 1 : 0) + (extend != null ? 1 : 0);
        if (modes != 1) {
            throw ApiError.badField(modes == 0 ? "strength" : SOURCE_FIELDS.stream().filter(map::containsKey).sorted()
                    .findFirst().orElse("strength"), "give exactly one of \"strength\" (regenerate the clip), "
                    + "\"mask_start\" and \"mask_end\" (inpaint) or \"extend_seconds\" (continue the clip)");
        }
        if (strength != null && !(strength > 0 && strength <= 1)) {
            throw ApiError.badField("strength", "\"strength\" must be in (0, 1], got " + strength);
        }
        if ((maskStart == null) != (maskEnd == null)) {
            throw ApiError.badField(maskStart == null ? "mask_start" : "mask_end",
                    "inpainting needs both \"mask_start\" and \"mask_end\" (seconds)");
        }
        if (maskStart != null && !(maskStart >= 0 && maskEnd > maskStart && maskEnd <= limits.maxSeconds())) {
            throw ApiError.badField("mask_end", "the mask must satisfy 0 <= mask_start < mask_end <= "
                    + limits.maxSeconds() + ", got [" + maskStart + ", " + maskEnd + ")");
        }
        if (extend != null) {
            if (!(extend > 0 && audio.seconds() + extend <= limits.maxSeconds())) {
                throw ApiError.badField("extend_seconds", "\"extend_seconds\" must be > 0 and the clip with it at most "
                        + limits.maxSeconds() + " s long, got " + extend + " after " + audio.seconds() + " s");
            }
            if (spec.seconds() != null) {
                throw ApiError.badField("seconds", "with \"extend_seconds\" the length is the clip's plus the "
                        + "extension; leave \"seconds\" out");
            }
        }
        if (audio.seconds() > limits.maxSeconds()) {
            throw ApiError.badField("audio", "the uploaded clip is " + audio.seconds() + " s long; at most "
                    + limits.maxSeconds() + " s are accepted");
        }
        return spec.withSource(new JobSpec.Source(audio, strength, maskStart, maskEnd, extend));
    }

    private static Map<?, ?> object(byte[] body, Limits limits, Set<String> fields) {
        if (body.length > limits.maxBodyBytes()) {
            throw new ApiError(413, null, "the request body has " + body.length + " bytes; at most "
                    + limits.maxBodyBytes() + " are accepted");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw ApiError.badField(null, "the request body is not UTF-8 text");
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (JsonException e) {
            throw ApiError.badField(null, "the request body is not valid JSON: " + e.getMessage());
        } catch (StackOverflowError e) {
            throw ApiError.badField(null, "the request body nests too deeply");
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw ApiError.badField(null, "the request body must be a JSON object");
        }
        for (Object k : map.keySet()) {
            if (!fields.contains(k)) {
                throw ApiError.badField((String) k, "unknown field \"" + k + "\" (accepted: "
                        + fields.stream().sorted().collect(java.util.stream.Collectors.joining(", ")) + ")");
            }
        }
        return map;
    }

    private static JobSpec spec(Map<?, ?> map, Limits limits) {
        String prompt = string(map, "prompt", limits); // required by text models, refused by unconditional ones
        if (prompt != null && prompt.isBlank()) {
            throw ApiError.badField("prompt", "\"prompt\" is empty");
        }
        String negative = string(map, "negative_prompt", limits);
        Double seconds = number(map, "seconds");
        if (seconds != null && !(seconds > 0 && seconds <= limits.maxSeconds())) {
            throw ApiError.badField("seconds", "\"seconds\" must be > 0 and at most " + limits.maxSeconds() + ", got "
                    + seconds);
        }
        Long steps = integer(map, "steps");
        if (steps != null && (steps < 1 || steps > limits.maxSteps())) {
            throw ApiError.badField("steps", "\"steps\" must be between 1 and " + limits.maxSteps() + ", got " + steps);
        }
        Double guidance = number(map, "guidance");
        if (guidance != null && !(guidance >= 0 && guidance <= 100)) {
            throw ApiError.badField("guidance", "\"guidance\" must be between 0 and 100, got " + guidance);
        }
        Long seed = integer(map, "seed");
        if (seed != null && (seed < 0 || seed > MAX_SEED)) {
            throw ApiError.badField("seed", "\"seed\" must be between 0 and " + MAX_SEED + ", got " + seed);
        }
        String samplerName = string(map, "sampler", limits);
        SamplerKind sampler = null;
        if (samplerName != null) {
            try {
                sampler = SamplerKind.fromCliName(samplerName);
            } catch (IllegalArgumentException e) {
                throw ApiError.badField("sampler", e.getMessage());
            }
        }
        Long count = integer(map, "count");
        if (count != null && (count < 1 || count > limits.maxCount())) {
            throw ApiError.badField("count", "\"count\" must be between 1 and " + limits.maxCount() + ", got " + count);
        }
        String format = string(map, "format", limits);
        if (format != null && !format.equals("wav") && !format.equals("float")) {
            throw ApiError.badField("format", "\"format\" must be \"wav\" (16-bit PCM) or \"float\" (32-bit float "
                    + "WAV), got \"" + format + "\"");
        }
        return new JobSpec(prompt, negative, seconds, steps == null ? null : steps.intValue(), guidance,
                seed != null ? seed : SEEDS.nextLong() & 0xFFFFFFFFL, sampler, count == null ? 1 : count.intValue(),
                format == null ? "wav" : format);
    }

    private static String string(Map<?, ?> m, String key, Limits limits) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw ApiError.badField(key, "\"" + key + "\" must be a string");
        }
        if (s.length() > limits.maxPromptChars()) {
            throw ApiError.badField(key, "\"" + key + "\" has " + s.length() + " characters; at most "
                    + limits.maxPromptChars() + " are accepted");
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(++i)))) {
                throw ApiError.badField(key, "\"" + key + "\" holds an unpaired surrogate escape");
            }
        }
        return s;
    }

    private static Double number(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Number n)) {
            throw ApiError.badField(key, "\"" + key + "\" must be a number");
        }
        double d = n.doubleValue();
        if (!Double.isFinite(d)) {
            throw ApiError.badField(key, "\"" + key + "\" must be finite");
        }
        return d;
    }

    private static Long integer(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53) {
            return d.longValue();
        }
        throw ApiError.badField(key, "\"" + key + "\" must be an integer");
    }
}
