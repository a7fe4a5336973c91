package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A write that fails half-way (a full disk, a bug in the body) leaves neither a partial file nor its temporary. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<Path> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void diskFullMidWriteRemovesTheTemporaryAndKeepsTheOldFile() throws IOException {
        Path target = dir.resolve("out.wav");
        byte[] old = {1, 2, 3};
        Files.write(target, old);
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[200_000]); // past the 64 KiB buffer: some bytes reach the temporary file
            throw new IOException("No space left on device");
        }));
        assertEquals("No space left on device", e.getMessage());
        assertEquals(List.of(target), listing(), "temporary file left behind");
        assertArrayEquals(old, Files.readAllBytes(target), "the previous file was damaged");
    }

    @Test
    void anUncheckedFailureInTheBodyAlsoCleansUp() throws IOException {
        Path target = dir.resolve("new.wav");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[100]);
            throw new IllegalStateException("bug");
        }));
        assertEquals(List.of(), listing());
    }

    @Test
    void aMissingFolderIsNamed() {
        IOException e = assertThrows(IOException.class,
                () -> AtomicFiles.write(dir.resolve("nowhere/out.wav"), out -> out.write(1)));
        assertEquals("cannot write " + dir.resolve("nowhere/out.wav") + ": output folder " + dir.resolve("nowhere")
                + " does not exist", e.getMessage());
    }

    @Test
    void wavWriterRefusesNonFiniteSamplesBeforeCreatingAnything() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> WavWriter.write(dir.resolve("x.wav"),
                new float[] {0f, Float.NaN}, 16000, WavWriter.Format.PCM16, java.util.Map.of()));
        assertEquals(List.of(), listing());
    }
}
