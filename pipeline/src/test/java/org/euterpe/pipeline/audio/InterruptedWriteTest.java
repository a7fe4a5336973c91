package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.euterpe.pipeline.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 4: SIGINT or SIGTERM while a run writes its outputs used to leave
 * {@code .NAME.<n>.part} files, an {@code imageio<n>.tmp} in the temporary folder, and only some of
 * the outputs. A child JVM stages a set of outputs and stops inside one of them; the signal must
 * leave no file at all, in the output folder or the temporary folder.
 */
class InterruptedWriteTest {
    @TempDir
    Path tmp;

    @Test
    void sigtermMidWriteLeavesNothing() throws Exception {
        interrupt(Process::destroy);
    }

    @Test
    void sigintMidWriteLeavesNothing() throws Exception {
        interrupt(p -> {
            try {
                new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(e);
            }
        });
    }

    private void interrupt(java.util.function.Consumer<Process> signal) throws Exception {
        Path out = Files.createDirectory(tmp.resolve("out"));
        Path javaTmp = Files.createDirectory(tmp.resolve("java-tmp"));
        Path stdout = tmp.resolve("stdout");
        Process p = ChildJvm.engine().flag("-Djava.io.tmpdir=" + javaTmp)
                .start(StagedWrites.class, stdout, tmp.resolve("stderr"), out.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(stdout).contains("stalled") && p.isAlive()) {
            assertTrue(System.nanoTime() < deadline, "the child never reached its stalled write");
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), () -> "the child ended early: " + read(tmp.resolve("stderr")));
        assertFalse(listing(out).isEmpty(), "the staged outputs exist as temporary files before the signal");
        signal.accept(p);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the child did not stop");
        assertEquals(List.of(), listing(out), "files left in the output folder");
        assertEquals(List.of(), listing(javaTmp), "files left in java.io.tmpdir");
    }

    @Test
    void pngsAreEncodedWithoutImageIosFileCache() throws IOException {
        ImageIO.setUseCache(true); // ImageIO's default
        SpectrogramPng.body(new float[] {0, 1, 2, 3}, 2, 2, 1, 1).write(new ByteArrayOutputStream());
        assertFalse(ImageIO.getUseCache(), "ImageIO would buffer the PNG in an imageio*.tmp file");
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(q -> q.getFileName().toString()).sorted().toList();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Stages a WAV and a PNG, then stalls inside a third output until it is killed. */
    public static final class StagedWrites {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            float[] mel = new float[64 * 16];
            List<Path> targets = new ArrayList<>(List.of(dir.resolve("a.wav"), dir.resolve("a.png"),
                    dir.resolve("b.wav")));
            List<AtomicFiles.Body> bodies = new ArrayList<>(List.of(
                    WavWriter.body(new float[1600], 16000, WavWriter.Format.PCM16, java.util.Map.of()),
                    SpectrogramPng.body(mel, 64, 16, 4, 4),
                    o -> {
                        o.write(new byte[1000]);
                        o.flush();
                        System.out.println("stalled");
                        System.out.flush();
                        try {
                            Thread.sleep(120_000);
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }));
            AtomicFiles.writeAll(targets, bodies, t -> System.out.println("wrote " + t));
        }
    }
}
