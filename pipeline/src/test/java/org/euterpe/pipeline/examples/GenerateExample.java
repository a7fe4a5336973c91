package org.euterpe.pipeline.examples;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.AudioPipeline;
import org.euterpe.pipeline.audio.WavWriter;

/** Generates a WAV from a prompt. Run with: java --add-modules jdk.incubator.vector ... GenerateExample [MODEL] */
public class GenerateExample {
    /** Set from another thread (a UI's cancel button) to stop between denoising steps. */
    static final AtomicBoolean cancelled = new AtomicBoolean();

    public static void main(String[] args) throws Exception {
        Path model = args.length > 0 ? Path.of(args[0]) : null; // null: the bundled tiny model
        generate(model, Path.of("piano.wav"), 5, 20);
    }

    static void generate(Path model, Path out, double seconds, int steps) throws Exception {
        try (AudioPipeline pipe = Euterpe.load(model, Euterpe.Options.defaults())) {
            GenerationRequest req = GenerationRequest.builder("warm lo-fi piano over rain")
                    .seconds(seconds).steps(steps).seed(42).build();
            GenerationResult r = pipe.generate(req, new ProgressListener() {
                @Override
                public boolean onStep(int step, int total) {
                    return !cancelled.get(); // false cancels the generation
                }
            });
            WavWriter.write(out, r.waveforms()[0], r.sampleRate(), WavWriter.Format.PCM16, Map.of());
        }
    }
}
