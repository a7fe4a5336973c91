package org.euterpe.pipeline.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.euterpe.pipeline.AudioModel;
import org.euterpe.pipeline.AudioPipeline;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.TextToAudioPipeline;

/**
 * The adapter from the server's {@link JobSpec} to the pipelines' one request and result API
 * ({@link AudioPipeline}: AudioLDM, MusicLDM, Dance Diffusion, whatever {@link Euterpe#load} dispatches to).
 */
public final class PipelineEngine implements Engine {
    private final AudioPipeline pipe;
    private final String name;

    public PipelineEngine(AudioPipeline pipe, String name) {
        this.pipe = pipe;
        this.name = name;
    }

    /** Loads {@code model} (null: the bundled model) with {@code options}. */
    public static PipelineEngine load(Path model, String name, Euterpe.Options options) throws IOException {
        return new PipelineEngine(Euterpe.load(model, options), name);
    }

    /** The request the CLI's {@code generate} builds from the same options. */
    public static GenerationRequest request(JobSpec s) {
        GenerationRequest.Builder b = (s.prompt() != null ? GenerationRequest.builder(s.prompt())
                : GenerationRequest.builder()).seed(s.seed()).waveformsPerPrompt(s.count());
        if (s.negativePrompt() != null) {
            b.negativePrompt(s.negativePrompt());
        }
        if (s.seconds() != null) {
            b.seconds(s.seconds());
        }
        if (s.steps() != null) {
            b.steps(s.steps());
        }
        if (s.guidance() != null) {
            b.guidanceScale(s.guidance());
        }
        if (s.sampler() != null) {
            b.sampler(s.sampler());
        }
        JobSpec.Source src = s.source();
        if (src != null) { // as generate's --init-audio/--strength, --inpaint/--mask-*, --continue
            b.sourceAudio(src.audio());
            if (src.strength() != null) {
                b.strength(src.strength());
            } else if (src.extendSeconds() != null) {
                b.mask(src.audio().seconds(), src.audio().seconds() + src.extendSeconds());
            } else {
                b.mask(src.maskStart(), src.maskEnd());
            }
        }
        return b.build();
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("id", name);
        d.put("pipeline", pipe.pipelineClass());
        d.put("sample_rate", pipe.sampleRate());
        d.put("channels", pipe.channels());
        d.put("takes_prompts", pipe.takesPrompts());
        d.put("default_steps", pipe.defaultSteps());
        if (pipe instanceof TextToAudioPipeline t) {
            AudioModel m = t.model();
            d.put("family", m.family().name().toLowerCase(java.util.Locale.ROOT));
            d.put("default_guidance", m.family().defaultGuidance());
            d.put("prompt_tokens", m.tokenizer().modelMaxLength() - 2);
            d.put("device", m.backend().description());
        } else {
            d.put("family", pipe.pipelineClass().replace("Pipeline", "").toLowerCase(java.util.Locale.ROOT));
        }
        return d;
    }

    @Override
    public Output generate(JobSpec spec, ProgressListener listener) {
        GenerationRequest request = request(spec);
        if (pipe instanceof TextToAudioPipeline t) {
            t.check(request);
        }
        GenerationResult r = pipe.generate(request, listener);
        return new Output(r.waveforms(), r.sampleRate(), r.seed(), r.channels(), r.settings());
    }

    @Override
    public void close() {
        pipe.close();
    }
}
