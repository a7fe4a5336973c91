package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lengths the options accept but the machine cannot run: a one-line refusal, or one line for an OutOfMemoryError. */
class LongClipCliTest {
    @TempDir
    Path tmp;

    private List<String> errorLines(BadInputTest.Outcome o) {
        return o.err().stream().filter(l -> l.startsWith("euterpe ")).toList();
    }

    /** The command: refused after loading, before any stage, with exit 2 and the figures. */
    @Test
    void tooLongForTheHeapIsOneLineExit2() throws IOException {
        String old = System.getProperty("euterpe.heap.bytes");
        System.setProperty("euterpe.heap.bytes", Long.toString(6L << 30));
        BadInputTest.Outcome o;
        try {
            o = BadInputTest.run("generate", "x", "--seconds", "300", "--steps", "1", "--device", "cpu",
                    "--model", TestData.conformanceCase("tiny-audioldm").toString(), "-o",
                    tmp.resolve("out.wav").toString());
        } finally {
            if (old == null) {
                System.clearProperty("euterpe.heap.bytes");
            } else {
                System.setProperty("euterpe.heap.bytes", old);
            }
        }
        assertEquals(2, o.exit(), () -> "stderr " + o.err());
        List<String> errors = errorLines(o);
        assertEquals(1, errors.size(), () -> "stderr " + o.err());
        String line = errors.getFirst();
        assertTrue(line.startsWith("euterpe generate: a 300.00 s clip needs about") && line.contains("4608 MiB")
                && line.contains("at most about") && line.contains("-Xmx"), line);
        assertTrue(o.err().stream().noneMatch(l -> l.startsWith("encode") || l.startsWith("estimate")),
                () -> "a stage ran: " + o.err());
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(), s.toList());
        }
    }

    /**
     * An OutOfMemoryError that gets past the estimate (here: the check is told the heap is huge,
     * the JVM has 96 MiB) ends in one line and exit 1, not a JVM trace.
     */
    @Test
    void outOfMemoryErrorIsOneLine() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-Xmx96m", "-Deuterpe.heap.bytes=" + (1L << 40), "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "generate", "x", "--seconds", "20", "--steps", "1", "--device", "cpu",
                "--model", TestData.conformanceCase("tiny-audioldm").toString(), "-o",
                tmp.resolve("out.wav").toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        p.getOutputStream().close();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "did not finish");
        String stderr = new String(err, StandardCharsets.UTF_8);
        List<String> lines = stderr.lines().filter(l -> l.startsWith("euterpe ")).toList();
        assertEquals(1, p.exitValue(), stderr);
        assertEquals(1, lines.size(), stderr);
        assertTrue(lines.getFirst().startsWith("euterpe generate: out of memory (")
                && lines.getFirst().contains("MiB"), stderr);
        assertTrue(stderr.lines().noneMatch(l -> l.trim().startsWith("at ") || l.contains("Exception in thread")),
                stderr);
        assertTrue(Files.notExists(tmp.resolve("out.wav")));
    }
}
