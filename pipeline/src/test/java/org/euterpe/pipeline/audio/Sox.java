package org.euterpe.pipeline.audio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** Runs the {@code sox} command (Debian package {@code sox}) for tests; skips them, visibly, when it is absent. */
final class Sox {
    private static final String MISSING = probe();

    private Sox() {
    }

    private static String probe() {
        try {
            Process p = new ProcessBuilder("sox", "--version").redirectErrorStream(true).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "sox --version did not finish";
            }
            return p.exitValue() == 0 ? null : "sox --version failed";
        } catch (IOException e) {
            return "sox is not installed (apt-get install sox): " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Skips the calling test with the reason when sox cannot run. */
    static void assume() {
        Assumptions.assumeTrue(MISSING == null, () -> "skipped: " + MISSING);
    }

    /** Runs {@code sox args...}; fails the test on a non-zero exit, with sox's output. */
    static void run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("sox");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("sox timed out: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IOException("sox failed (" + p.exitValue() + "): " + cmd + "\n"
                    + new String(out, StandardCharsets.UTF_8));
        }
    }

    /** Writes interleaved little-endian float32 {@code [channel][frame]} samples, sox's {@code -t f32}. */
    static void writeRawF32(Path file, float[][] channels) throws IOException {
        int n = channels[0].length;
        ByteBuffer b = ByteBuffer.allocate(n * channels.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            for (float[] c : channels) {
                b.putFloat(c[i]);
            }
        }
        Files.write(file, b.array());
    }

    /** Resamples mono float samples with {@code sox in -r out rate -v} (very high quality, linear phase). */
    static float[] rate(Path dir, float[] in, int inRate, int outRate) throws IOException, InterruptedException {
        Path a = dir.resolve("sox-in.wav");
        Path b = dir.resolve("sox-out.wav");
        WavWriter.write(a, in, inRate, WavWriter.Format.FLOAT32, java.util.Map.of());
        run("-D", a.toString(), "-e", "floating-point", "-b", "32", b.toString(), "rate", "-v",
                Integer.toString(outRate));
        WavReader.Audio audio = WavReader.read(b);
        if (audio.sampleRate() != outRate || audio.channelCount() != 1) {
            throw new IOException("sox wrote " + audio.sampleRate() + " Hz, " + audio.channelCount() + " channels");
        }
        return audio.channels()[0];
    }
}
