package org.euterpe.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.euterpe.tensor.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the safetensors reader: arbitrary bytes are written to a file, opened, and every tensor
 * is read in every way the API offers. Allowed outcomes: success or a {@link SafetensorsException}
 * (a subclass naming the problem); anything else is a bug. A successful read must also agree with
 * its header: the bytes of a tensor are exactly {@code numel × dtype size} long.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code SafetensorsFuzzTestInputs/open/} as a plain test.
 */
class SafetensorsFuzzTest {
    private static Path dir;
    private static Path file;

    @BeforeAll
    static void createFile() throws IOException {
        // tmpfs when there is one: a million writes should not wear a disk.
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")),
                "euterpe-fuzz-");
        file = dir.resolve("input.safetensors");
    }

    @AfterAll
    static void removeFile() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void open(byte[] input) throws IOException {
        Files.write(file, input);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            f.metadata().forEach((k, v) -> {
                k.length();
                v.length();
            });
            for (String name : f.names()) {
                readAll(f, f.entry(name));
            }
        } catch (SafetensorsException expected) {
            // a named problem with the content: the documented outcome for a bad file
        }
    }

    private static void readAll(SafetensorsFile f, SafetensorsFile.Entry e) {
        long size = f.bytes(e.name()).byteSize();
        assertEquals(e.shape().numel() * e.dtype().byteSize(), size, e.name());
        assertEquals(e.byteSize(), size, e.name());
        boolean integer = e.dtype() == DType.I8 || e.dtype() == DType.I32 || e.dtype() == DType.I64;
        if (e.dtype() != DType.I8) {
            assertEquals(e.shape().numel(), f.floats(e.name()).length, e.name());
        }
        if (integer) {
            assertEquals(e.shape().numel(), f.longs(e.name()).length, e.name());
        }
    }
}
