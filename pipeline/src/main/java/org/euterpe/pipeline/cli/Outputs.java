package org.euterpe.pipeline.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

import org.euterpe.pipeline.audio.AtomicFiles;
import org.euterpe.pipeline.audio.SpectrogramPng;
import org.euterpe.pipeline.audio.WaveformSpectrogram;

/**
 * The files a command will write, checked before any work: every output is a regular file or does
 * not exist yet (never a link, device, FIFO or folder), in an existing writable folder, no two
 * outputs share a path, and an existing file is replaced only with {@code --force}. Several
 * outputs are numbered: {@code out.wav} becomes {@code out-1.wav}, {@code out-2.wav}, ...
 */
final class Outputs {
    /** The output name that means standard output. */
    static final String STDOUT = "-";

    private final List<Path> wavs;
    private final List<Path> spectrograms;

    private Outputs(List<Path> wavs, List<Path> spectrograms) {
        this.wavs = wavs;
        this.spectrograms = spectrograms;
    }

    /**
     * @param output      the WAV path, or {@code -} for standard output (one waveform only)
     * @param spectrogram the PNG path, or null for none
     * @param count       how many waveforms the run makes
     * @throws Main.UsageException naming the first output that cannot be written, and why
     */
    static Outputs plan(String output, String spectrogram, int count, boolean force) {
        List<Path> wavs = new ArrayList<>();
        List<Path> pngs = new ArrayList<>();
        if (output.equals(STDOUT)) {
            if (count != 1) {
                throw new Main.UsageException("-o - writes one WAV to standard output, but this run makes " + count);
            }
        } else {
            Path o = Path.of(output);
            for (int i = 0; i < count; i++) {
                wavs.add(count == 1 ? o : numbered(o, i + 1));
            }
        }
        if (spectrogram != null) {
            if (spectrogram.equals(STDOUT)) {
                throw new Main.UsageException("--spectrogram needs a file name (standard output carries only a WAV)");
            }
            Path s = Path.of(spectrogram);
            for (int i = 0; i < count; i++) {
                pngs.add(count == 1 ? s : numbered(s, i + 1));
            }
        }
        Set<Path> seen = new HashSet<>();
        List<Path> all = new ArrayList<>(wavs);
        all.addAll(pngs);
        for (Path p : all) {
            if (!seen.add(p.toAbsolutePath().normalize())) {
                throw new Main.UsageException("two outputs would be written to " + p + " (give the WAV and the"
                        + " spectrogram different names)");
            }
            String refusal = AtomicFiles.refusal(p);
            if (refusal != null) {
                throw new Main.UsageException(refusal);
            }
            if (!force && Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new Main.UsageException(p + " exists; pass --force to replace it");
            }
        }
        return new Outputs(wavs, pngs);
    }

    /**
     * Writes the run's {@code count} outputs: WAV 0 to standard output ({@code -o -}), or every WAV, and its
     * spectrogram where one was asked for, to temporary files renamed into place together ({@link
     * AtomicFiles#writeAll}: an interrupted run leaves none, or those it said it wrote). One "wrote" line each, a WAV's
     * ending with {@code (what)}; on {@code err} when the WAV itself goes to standard output, else on {@code out}.
     *
     * @param spectrogram the i-th PNG, asked for only when one was planned
     */
    void write(int count, IntFunction<AtomicFiles.Body> wav, IntFunction<AtomicFiles.Body> spectrogram, String what,
            PrintStream out, PrintStream err) throws IOException {
        if (toStdout()) {
            wav.apply(0).write(out);
            out.flush();
            err.println("wrote standard output (" + what + ")");
            return;
        }
        List<Path> targets = new ArrayList<>();
        List<AtomicFiles.Body> bodies = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            targets.add(wav(i));
            bodies.add(wav.apply(i));
            if (spectrogram(i) != null) {
                targets.add(spectrogram(i));
                bodies.add(spectrogram.apply(i));
            }
        }
        Set<Path> pngs = new HashSet<>(spectrograms);
        AtomicFiles.writeAll(targets, bodies, p -> out.println("wrote " + p + (pngs.contains(p) ? "" : " (" + what
                + ")")));
    }

    /**
     * The PNG of a model without a mel stage of its own (Dance Diffusion, Stable Audio): the log-mel of
     * {@code channels} ({@code [channel][sample]}, {@link WaveformSpectrogram}), at least ~512 x 256 px.
     */
    static AtomicFiles.Body waveformSpectrogram(float[][] channels, int sampleRate) {
        WaveformSpectrogram.Mel mel = WaveformSpectrogram.of(channels, sampleRate, 64);
        return SpectrogramPng.body(mel.values(), mel.frames(), mel.bins(), Math.max(1, 512 / mel.frames()),
                Math.max(1, 256 / mel.bins()));
    }

    /** {@code [channel][sample]} to interleaved frames ({@code [l0, r0, l1, r1, ...]}, the WAV order). */
    static float[] interleave(float[][] channels) {
        int n = channels[0].length;
        float[] out = new float[n * channels.length];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < channels.length; c++) {
                out[i * channels.length + c] = channels[c][i];
            }
        }
        return out;
    }

    /** Interleaved frames ({@code [l0, r0, l1, r1, ...]}) to {@code [channel][sample]}. */
    static float[][] deinterleave(float[] frames, int channels) {
        float[][] out = new float[channels][frames.length / channels];
        for (int i = 0; i < out[0].length; i++) {
            for (int c = 0; c < channels; c++) {
                out[c][i] = frames[i * channels + c];
            }
        }
        return out;
    }

    boolean toStdout() {
        return wavs.isEmpty();
    }

    Path wav(int i) {
        return wavs.get(i);
    }

    /** The i-th spectrogram, or null when none was asked for. */
    Path spectrogram(int i) {
        return spectrograms.isEmpty() ? null : spectrograms.get(i);
    }

    /** out.wav -> out-2.wav */
    static Path numbered(Path p, int n) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String numbered = dot > 0 ? name.substring(0, dot) + "-" + n + name.substring(dot) : name + "-" + n;
        return p.resolveSibling(numbered);
    }
}
