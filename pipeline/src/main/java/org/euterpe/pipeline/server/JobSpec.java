package org.euterpe.pipeline.server;

import java.util.LinkedHashMap;
import java.util.Map;

import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.scheduler.SamplerKind;

/**
 * One validated generation request as the API takes it; null fields take the model's defaults.
 *
 * @param format {@code wav} (16-bit PCM) or {@code float} (32-bit float WAV)
 * @param source the uploaded audio of {@code POST /v1/audio/variations} and what to do with it, or null
 */
public record JobSpec(String prompt, String negativePrompt, Double seconds, Integer steps, Double guidance, long seed,
        SamplerKind sampler, int count, String format, Source source) {

    /**
     * Audio in: exactly one of {@code strength} (regenerate the clip with the prompt), a mask
     * {@code [maskStart, maskEnd)} seconds (inpaint), or {@code extendSeconds} (continue the clip).
     */
    public record Source(WavReader.Audio audio, Double strength, Double maskStart, Double maskEnd,
            Double extendSeconds) {
        public String mode() {
            return strength != null ? "regenerate" : extendSeconds != null ? "continue" : "inpaint";
        }
    }

    /** A text-only request. */
    public JobSpec(String prompt, String negativePrompt, Double seconds, Integer steps, Double guidance, long seed,
            SamplerKind sampler, int count, String format) {
        this(prompt, negativePrompt, seconds, steps, guidance, seed, sampler, count, format, null);
    }

    public JobSpec withSource(Source s) {
        return new JobSpec(prompt, negativePrompt, seconds, steps, guidance, seed, sampler, count, format, s);
    }

    /** The request as the job status echoes it. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", prompt);
        m.put("negative_prompt", negativePrompt);
        m.put("seconds", seconds);
        m.put("steps", steps);
        m.put("guidance", guidance);
        m.put("seed", seed);
        m.put("sampler", sampler == null ? null : sampler.cliName());
        m.put("count", count);
        m.put("format", format);
        if (source != null) {
            Map<String, Object> src = new LinkedHashMap<>();
            src.put("mode", source.mode());
            src.put("seconds", source.audio().seconds());
            src.put("sample_rate", source.audio().sampleRate());
            src.put("channels", source.audio().channelCount());
            src.put("strength", source.strength());
            src.put("mask_start", source.maskStart());
            src.put("mask_end", source.maskEnd());
            src.put("extend_seconds", source.extendSeconds());
            m.put("source", src);
        }
        return m;
    }
}
