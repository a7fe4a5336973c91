package org.euterpe.pipeline.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.euterpe.pipeline.AudioModel;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.TextToAudioPipeline;

/** The adapter from the server's {@link JobSpec} to the pipeline's request and result API. */
public final class PipelineEngine implements Engine {
    private final TextToAudioPipeline pipe;
    private final String name;

    public PipelineEngine(TextToAudioPipeline pipe, String name) {
        this.pipe = pipe;
        this.name = name;
    }

    /** Loads {@code model} (null: the bundled model) with {@code options}. */
    public static PipelineEngine load(Path model, String name, Euterpe.Options options) throws IOException {
        return new PipelineEngine(Euterpe.load(model, options), name);
    }

    /** The request the CLI's {@code generate} builds from the same options. */
    public static GenerationRequest request(JobSpec s) {
        GenerationRequest.Builder b = GenerationRequest.builder(s.prompt()).seed(s.seed()).waveformsPerPrompt(s.count());
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
        AudioModel m = pipe.model();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("id", name);
        d.put("family", m.family().name().toLowerCase(java.util.Locale.ROOT));
        d.put("sample_rate", m.vocoder().config().samplingRate());
        d.put("default_steps", m.family().defaultSteps());
        d.put("default_guidance", m.family().defaultGuidance());
        d.put("prompt_tokens", m.tokenizer().modelMaxLength() - 2);
        d.put("device", m.backend().description());
        return d;
    }

    @Override
    public Output generate(JobSpec spec, ProgressListener listener) {
        GenerationRequest request = request(spec);
        pipe.check(request);
        GenerationResult r = pipe.generate(request, listener);
        return new Output(r.waveforms(), r.sampleRate(), r.seed(), r.settings());
    }

    @Override
    public void close() {
        pipe.close();
    }
}
