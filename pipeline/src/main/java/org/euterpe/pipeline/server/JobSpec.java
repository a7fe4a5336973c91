package org.euterpe.pipeline.server;

import java.util.LinkedHashMap;
import java.util.Map;

import org.euterpe.pipeline.scheduler.SamplerKind;

/**
 * One validated generation request as the API takes it; null fields take the model's defaults.
 *
 * @param format {@code wav} (16-bit PCM) or {@code float} (32-bit float WAV)
 */
public record JobSpec(String prompt, String negativePrompt, Double seconds, Integer steps, Double guidance, long seed,
        SamplerKind sampler, int count, String format) {

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
        return m;
    }
}
