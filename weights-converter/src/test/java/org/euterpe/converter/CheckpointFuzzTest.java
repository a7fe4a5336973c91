package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the {@code .bin} checkpoint reader: the restricted unpickler alone on arbitrary bytes, and
 * the whole reader (ZIP central directory, local headers, CRCs, unpickling, tensor views, strided
 * copies) on arbitrary files. Allowed outcomes: success or a {@link CheckpointException} (including
 * {@link UnsafePickleException}); anything else is a bug. A tensor read must have exactly the size
 * its dtype and shape give.
 *
 * <p>Without {@code JAZZER_FUZZ} these replay {@code CheckpointFuzzTestInputs/<method>/} as plain tests.
 */
class CheckpointFuzzTest {
    private static final Path NAME = Path.of("fuzz.pkl");
    private static Path dir;
    private static Path file;

    @BeforeAll
    static void createFile() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")),
                "euterpe-fuzz-");
        file = dir.resolve("input.bin");
    }

    @AfterAll
    static void removeFile() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void unpickle(byte[] input) {
        try {
            StateDictUnpickler.load(NAME, MemorySegment.ofArray(input));
        } catch (CheckpointException expected) {
            // refused or malformed, named with its offset
        }
    }

    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void torchCheckpoint(byte[] input) throws IOException {
        Files.write(file, input);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            for (String name : ckpt.names()) {
                CheckpointReader.TensorInfo info = ckpt.info(name);
                assertEquals(info.byteSize(), ckpt.bytes(name).byteSize(), name);
            }
        } catch (CheckpointException expected) {
            // a named problem with the archive or its pickle
        }
    }
}
