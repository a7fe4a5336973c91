package org.euterpe.pipeline.examples;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;

/** Regenerates, inpaints and continues a WAV, and interpolates two prompts. Args: IN.wav OUT_FOLDER [MODEL] */
public class AudioInExample {
    public static void main(String[] args) throws Exception {
        run(Path.of(args[0]), Path.of(args[1]), args.length > 2 ? Path.of(args[2]) : null, 20);
    }

    static void run(Path in, Path outDir, Path model, int steps) throws Exception {
        WavReader.Audio clip = WavReader.read(in); // any rate and channel count
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(model, Euterpe.Options.defaults())) {
            GenerationResult flute = pipe.generate(GenerationRequest.builder("a flute playing the melody")
                    .sourceAudio(clip).strength(0.6).steps(steps).build(), ProgressListener.NONE); // regenerate
            GenerationResult patched = pipe.generate(GenerationRequest.builder("a dog barks")
                    .sourceAudio(clip).mask(0.25 * clip.seconds(), 0.5 * clip.seconds()).steps(steps).build(),
                    ProgressListener.NONE); // inpaint: regenerate the second quarter, keep the rest
            GenerationResult longer = pipe.generate(GenerationRequest.builder("the same piano, getting louder")
                    .sourceAudio(clip).mask(clip.seconds(), 2 * clip.seconds()).steps(steps).build(),
                    ProgressListener.NONE); // continue: as long again
            List<GenerationResult> between = pipe.interpolatePrompts("rain on a roof", "a jazz drummer", 5,
                    GenerationRequest.builder("rain on a roof").seconds(clip.seconds()).steps(steps).build(),
                    ProgressListener.NONE); // 5 points, the ends are the two prompts' plain generations
            write(outDir.resolve("flute.wav"), flute);
            write(outDir.resolve("patched.wav"), patched);
            write(outDir.resolve("longer.wav"), longer);
            for (int i = 0; i < between.size(); i++) {
                write(outDir.resolve("between-" + i + ".wav"), between.get(i));
            }
        }
    }

    static void write(Path out, GenerationResult r) throws Exception {
        WavWriter.write(out, r.waveforms()[0], r.sampleRate(), WavWriter.Format.PCM16, Map.of());
    }
}
