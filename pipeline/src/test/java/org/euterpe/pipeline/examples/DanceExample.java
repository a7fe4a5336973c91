package org.euterpe.pipeline.examples;

import java.nio.file.Path;
import java.util.Map;

import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.pipeline.dance.DanceDiffusionPipeline;

/** Dance Diffusion's three verbs. Run with: java --add-modules jdk.incubator.vector ... DanceExample MODEL IN.wav */
public class DanceExample {
    public static void main(String[] args) throws Exception {
        run(Path.of(args[0]), Path.of(args[1]), Path.of("."), 100);
    }

    static void run(Path model, Path in, Path outDir, int steps) throws Exception {
        try (DanceDiffusionPipeline pipe = (DanceDiffusionPipeline) Euterpe.load(model, Euterpe.Options.defaults())) {
            // generate: no prompt, the model is unconditional; two stereo clips of the training window
            GenerationResult g = pipe.generate(GenerationRequest.builder().waveformsPerPrompt(2).steps(steps)
                    .seed(7).build(), ProgressListener.NONE);
            write(g, outDir.resolve("new"));
            // regenerate: the input at noise level 0.3 (0 keeps it, 1 keeps only its length)
            WavReader.Audio audio = WavReader.read(in);
            GenerationResult r = pipe.regenerate(audio, 0.3, steps, 1, 7, GenerationRequest.NoiseMode.EUTERPE,
                    ProgressListener.NONE);
            write(r, outDir.resolve("regen"));
            // interpolate: 5 points from the input to the first generated clip
            WavReader.Audio other = WavReader.read(outDir.resolve("new-0.wav"));
            GenerationResult i = pipe.interpolate(audio, other, 5, steps, ProgressListener.NONE);
            write(i, outDir.resolve("mix"));
        }
    }

    static void write(GenerationResult r, Path prefix) throws Exception {
        for (int k = 0; k < r.waveforms().length; k++) {
            WavWriter.write(Path.of(prefix + "-" + k + ".wav"), r.waveforms()[k], r.channels(), r.sampleRate(),
                    WavWriter.Format.FLOAT32, Map.of());
        }
    }
}
