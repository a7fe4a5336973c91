package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.ResidentMemory;
import org.euterpe.pipeline.audio.Resampler;
import org.euterpe.pipeline.audio.SpectrogramPng;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.pipeline.audio.WaveformSpectrogram;
import org.euterpe.pipeline.stableaudio.StableAudioPipeline;
import org.euterpe.pipeline.stableaudio.StableAudioRequest;
import org.euterpe.pipeline.stableaudio.StableAudioResult;
import org.euterpe.tensor.Backend;

/**
 * {@code euterpe generate} for a Stable Audio model (picked from its {@code model_index.json}): a prompt in,
 * stereo WAVs out, with the timing conditioning as {@code --seconds-start} / {@code --seconds}.
 */
final class StableAudioGenerateCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe generate \"PROMPT\" --model STABLE_AUDIO [options]",
            "",
            "  --negative TEXT       negative prompt",
            "  --steps N             denoising steps, 1 to 1000 (default 100)",
            "  --guidance G          classifier-free guidance scale; <= 1 disables it (default 7)",
            "  --seconds-start S     seconds_start conditioning and start of the clip (default 0)",
            "  --seconds S           seconds_total: where the clip ends (default: the model's maximum, 47.55 s",
            "                        for stable-audio-open-1.0); the WAV holds [seconds-start, seconds)",
            "  --seed N              random seed (default: random, printed)",
            "  --count N             waveforms per prompt, 1 to 64 (written as out-1.wav, out-2.wav, ...)",
            "  --init-audio FILE     start from FILE (WAV or FLAC; resampled and up-/down-mixed to the model's",
            "                        rate and channels, cropped or zero-padded to its length)",
            "  --strength S          with --init-audio, in (0, 1]: start the schedule at S * sigma_max from",
            "                        the encoded audio (near 0 keeps FILE, 1 nearly ignores it). Without it",
            "                        or --init-noise-level: diffusers' behaviour (noise at sigma_max added)",
            "  --init-noise-level N  with --init-audio: start the schedule at sigma N (stable-audio-tools'",
            "                        init_noise_level), e.g. 1..100 for the real model",
            "  --model M, --convert  a path, or a hub repository ORG/NAME[@REVISION], as for generate",
            "  --device D            auto|cpu|scalar|opencl[:N]|cuda[:N]; --fallback allows the CPU instead",
            "  -o, --output FILE     output WAV (default out.wav; stereo); - writes one WAV to standard output",
            "  --float               32-bit float WAV instead of 16-bit PCM",
            "  --spectrogram FILE    also write a log-mel spectrogram of the audio as a PNG",
            "  --force               replace outputs that exist",
            "  --keep-weights        keep each stage's weights resident after it (default: T5's released",
            "                        after encoding, the DiT's after denoising)",
            "  --verbose             print the settings used",
            "Options of the other families (--noise, --sampler, ...) are refused as not applying.");

    private StableAudioGenerateCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        GenerateOptions o = GenerateOptions.generate(argv, "Stable Audio", Set.of("--prompt", "--negative",
                "--guidance", "--seconds", "--seconds-start", "--seed", "--count", "--spectrogram", "--init-audio",
                "--strength", "--init-noise-level"), Set.of("--convert", "--keep-weights"));
        if (o.help()) {
            out.println(HELP);
            return 0;
        }
        Args a = o.args();
        String prompt = o.prompt();
        String device = o.device();
        long seed = o.seed();
        int steps = o.steps(100);
        Double g = o.guidance();
        double guidance = g != null ? g : 7.0;
        double start = a.has("--seconds-start") ? a.doubleOpt("--seconds-start") : 0.0;
        Double end = o.seconds();
        int count = o.count();
        String negative = a.has("--negative") ? a.get("--negative", null) : null;
        o.requires("--init-audio", "--init-noise-level");
        o.atMostOne("--strength", "--init-noise-level");
        Double strength = o.strength();
        Double noiseLevel = a.has("--init-noise-level") ? a.doubleOpt("--init-noise-level") : null;
        if (noiseLevel != null && !(noiseLevel > 0 && Double.isFinite(noiseLevel))) {
            throw new Main.UsageException("--init-noise-level must be a positive number, got " + noiseLevel);
        }
        // Read before the model loads, so a bad file fails at once.
        org.euterpe.pipeline.audio.WavReader.Audio initAudio = a.has("--init-audio") ? o.audio("--init-audio") : null;
        // checks the options that do not depend on the model now
        GenerateOptions.usage(() -> new StableAudioRequest(List.of(prompt), negative == null ? null : List.of(negative),
                guidance, steps, start, end, count, seed, null, noiseLevel));
        Outputs outputs = o.outputs(count, true);
        Path modelPath = o.model(err);
        long t0 = System.nanoTime();
        Progress progress = GenerateOptions.progress(err, t0);
        Backend backend = Backends.open(device, msg -> err.println("note: " + msg), a.has("--fallback"));
        try (StableAudioPipeline pipe = StableAudioPipeline.load(modelPath, backend).withResidency(
                a.has("--keep-weights") ? org.euterpe.pipeline.WeightResidency.KEEP
                        : org.euterpe.pipeline.WeightResidency.DEFAULT)) {
            progress.onStage("load", (System.nanoTime() - t0) / 1e9);
            err.println("device   " + backend.description());
            double resolvedEnd = end != null ? end : pipe.maxAudioLengthInS();
            GenerateOptions.usageCheck(() -> pipe.checkTiming(start, resolvedEnd, pipe.maxAudioLengthInS()));
            int tokens = pipe.tokenizer().tokenIds(prompt).length;
            int room = pipe.tokenizer().modelMaxLength() - 1; // </s>
            if (tokens > room) {
                err.println("note: the prompt has " + tokens + " tokens; the text encoder reads only the first " + room);
            }
            float[][][] initial = null;
            Double level = noiseLevel;
            if (initAudio != null) {
                initial = new float[][][] {initAudio(initAudio, a.get("--init-audio", null), pipe, err)};
                if (strength != null) {
                    level = strength * pipe.scheduler().sigmaMax();
                }
                if (level != null && level > pipe.scheduler().sigmaMax()) {
                    throw new Main.UsageException("--init-noise-level " + level + " is above the scheduler's sigma_max "
                            + pipe.scheduler().sigmaMax());
                }
            }
            float[][][] init = initial;
            Double initLevel = level;
            StableAudioRequest request = GenerateOptions.usage(() -> new StableAudioRequest(List.of(prompt),
                    negative == null ? null : List.of(negative), guidance, steps, start, end, count, seed, init,
                    initLevel));
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put("prompt", prompt);
            settings.put("negative_prompt", negative == null ? "" : negative);
            settings.put("seed", Long.toString(seed));
            settings.put("steps", Integer.toString(steps));
            settings.put("guidance", Double.toString(guidance));
            settings.put("seconds_start", Double.toString(start));
            settings.put("seconds_total", Double.toString(resolvedEnd));
            settings.put("count", Integer.toString(count));
            settings.put("sampler", "cosine-dpm-solver++-sde");
            if (initAudio != null) {
                settings.put("init_audio", a.get("--init-audio", null));
                settings.put("init_noise_level", level == null ? "sigma_max (diffusers)" : Double.toString(level));
            }
            if (o.verbose()) {
                err.println("settings " + settings);
            }
            StableAudioResult r = pipe.generate(request, progress);
            long t1 = System.nanoTime();
            String modelName = modelPath.toAbsolutePath().toString();
            Map<String, String> info = new LinkedHashMap<>();
            info.put(WavWriter.TITLE, prompt);
            info.put(WavWriter.COMMENT, GenerateCommand.comment(settings, modelName));
            info.put(WavWriter.SOFTWARE, "Euterpe");
            WavWriter.Format fmt = o.format();
            outputs.write(r.audio().length, i -> WavWriter.body(Outputs.interleave(r.audio()[i]), r.audio()[i].length,
                    r.sampleRate(), fmt, info), i -> Outputs.waveformSpectrogram(r.audio()[i], r.sampleRate()),
                    String.format(Locale.ROOT, "%d samples x %d channels at %d Hz, seed %d", r.audio()[0][0].length,
                            r.audio()[0].length, r.sampleRate(), seed), out, err);
            progress.onStage("write", (System.nanoTime() - t1) / 1e9);
            err.println("memory   peak resident " + ResidentMemory.format(ResidentMemory.peak()));
        }
        return 0;
    }

    /**
     * The initial audio as the model takes it: its channels (mono duplicated, more than two mixed down, as
     * {@link org.euterpe.pipeline.audio.WavReader} maps them) at its rate (the shared {@link Resampler}); what
     * was changed is said on {@code err}. The pipeline crops or pads it to the model's length.
     */
    static float[][] initAudio(org.euterpe.pipeline.audio.WavReader.Audio src, String file, StableAudioPipeline pipe,
            PrintStream err) {
        int channels = pipe.audioChannels();
        int rate = pipe.sampleRate();
        float[][] ch = src.toChannels(channels);
        double max = pipe.maxAudioLengthInS();
        long keep = (long) Math.ceil(max * src.sampleRate()) + 64; // the rest would be cropped after resampling
        if (ch[0].length > keep) {
            err.println(String.format(Locale.ROOT, "note: the init audio (%.2f s) is longer than the model's %.2f s;"
                    + " only its start is used", src.seconds(), max));
            for (int c = 0; c < ch.length; c++) {
                ch[c] = java.util.Arrays.copyOf(ch[c], (int) keep);
            }
        }
        List<String> changes = new ArrayList<>();
        if (src.channelCount() != channels) {
            changes.add((src.channelCount() < channels ? "up-mixed" : "down-mixed") + " from " + src.channelCount()
                    + " to " + channels + " channels");
        }
        if (src.sampleRate() != rate) {
            Resampler resampler = new Resampler(src.sampleRate(), rate);
            for (int c = 0; c < ch.length; c++) {
                ch[c] = resampler.process(ch[c]);
            }
            changes.add("resampled from " + src.sampleRate() + " Hz to " + rate + " Hz");
        }
        err.println(String.format(Locale.ROOT, "init     %s: %.2f s, %d channels at %d Hz%s", file, src.seconds(),
                src.channelCount(), src.sampleRate(), changes.isEmpty() ? "" : "; " + String.join(", ", changes)));
        return ch;
    }
}
