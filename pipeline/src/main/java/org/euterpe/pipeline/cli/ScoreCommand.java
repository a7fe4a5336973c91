package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.ClapScorer;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.audio.AudioFileException;
import org.euterpe.pipeline.audio.AudioReader;
import org.euterpe.pipeline.audio.WavReader;

/**
 * {@code euterpe score AUDIO... --prompt TEXT --model M [--device D]}: each file's CLAP similarity to the prompt
 * ({@code logits_per_text}, as MusicLDM re-ranks its outputs), best first.
 */
final class ScoreCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe score AUDIO... --prompt TEXT --model M [options]",
            "",
            "Scores each WAV or FLAC file against the prompt with the model's CLAP (text and audio towers), as",
            "MusicLDM ranks its own outputs, and prints the files best first: rank, logits_per_text (the cosine",
            "similarity times exp(logit_scale_t)), the cosine similarity, the file. Files are mixed to mono and",
            "resampled to the CLAP front-end's rate (48 kHz); clips longer than its max_length_s (10 s) are",
            "scored on their first 10 s. The model must ship the CLAP audio branch (MusicLDM does; AudioLDM's",
            "text encoder is the text branch only).",
            "",
            "  --prompt TEXT        the text to score against (required)",
            ModelArg.HELP,
            "  --device D           auto|cpu|scalar|opencl[:N]|cuda[:N] (default auto)");

    private ScoreCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(argv, Set.of("--prompt", "--model", "--device"), Set.of("--help", "-h", "--convert"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.positional().isEmpty()) {
            throw new Main.UsageException("give one or more audio files to score; see --help");
        }
        String prompt = a.get("--prompt", null);
        if (prompt == null || prompt.isBlank()) {
            throw new Main.UsageException("--prompt is required: the text to score the files against");
        }
        if (!a.has("--model")) {
            throw new Main.UsageException("--model is required: a model whose text encoder is a whole CLAP model"
                    + " (MusicLDM)");
        }
        String device;
        try {
            device = Backends.checkName(a.get("--device", "auto"));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        // every file is read before the model loads, so a bad one fails at once
        List<String> names = a.positional();
        List<float[]> clips = new ArrayList<>();
        List<Integer> rates = new ArrayList<>();
        for (String name : names) {
            WavReader.Audio clip;
            try {
                clip = AudioReader.read(Path.of(name));
            } catch (AudioFileException e) {
                throw new Main.UsageException(e.getMessage());
            }
            clips.add(clip.mono());
            rates.add(clip.sampleRate());
        }
        Path model = ModelArg.resolve(a.get("--model", null), a.has("--convert"), err);
        Euterpe.Options opts = Euterpe.Options.defaults().withDevice(device).withLog(msg -> err.println("note: "
                + msg));
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(model, opts)) {
            err.println("device   " + pipe.model().backend().description());
            ClapScorer scorer = pipe.model().clapScorer();
            int max = scorer.featureExtractor().maxSamples();
            int rate = scorer.featureExtractor().sampleRate();
            float[] logits = new float[clips.size()];
            for (int i = 0; i < clips.size(); i++) {
                if ((long) clips.get(i).length * rate > (long) max * rates.get(i)) {
                    err.printf(Locale.ROOT, "note: %s is longer than %.0f s: its first %.0f s are scored%n",
                            names.get(i), max / (double) rate, max / (double) rate);
                }
                logits[i] = scorer.logitsPerText(List.of(prompt), List.of(clips.get(i)), rates.get(i))[0][0];
            }
            float scale = scorer.model().logitScaleText();
            out.printf(Locale.ROOT, "%-4s %10s %8s  %s%n", "rank", "logit", "cosine", "file");
            int rank = 1;
            for (int i : ClapScorer.bestFirst(logits)) {
                out.printf(Locale.ROOT, "%-4d %10.4f %8.4f  %s%n", rank++, logits[i], logits[i] / scale,
                        names.get(i));
            }
        }
        return 0;
    }
}
