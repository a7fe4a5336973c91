package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hostile files of conformance/tiny-audioldm-bin/malicious (copied into the test resources).
 * Expected names and offsets come from that folder's pickletools_dis.txt.
 */
class MaliciousCheckpointTest {
    private static final Path PWNED = Path.of("/tmp/pwned");

    @ParameterizedTest
    @CsvSource({
        "os_system.bin, os.system, 18",
        "builtins_eval.bin, builtins.eval, 18",
        "unexpected_global_counter.bin, collections.Counter, 18",
        "os_system_stack_global.bin, STACK_GLOBAL (os.system), 27",
    })
    void refusesTheGlobalAtItsOffset(String file, String refused, long offset) throws Exception {
        boolean pwnedBefore = Files.exists(PWNED);
        Path path = Fixtures.resource("malicious/" + file);
        UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> CheckpointReader.open(path));
        assertEquals(refused, e.refused());
        assertEquals(offset, e.offset());
        assertTrue(e.getMessage().contains(refused), e.getMessage());
        assertTrue(e.getMessage().contains(file), "the message names the file: " + e.getMessage());
        if (!pwnedBefore) {
            assertFalse(Files.exists(PWNED), "a refused pickle must not have run anything");
        }
    }

    @Test
    void truncatedArchiveIsACleanError() {
        Path path = Fixtures.resource("malicious/truncated.bin");
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointReader.open(path));
        assertFalse(e instanceof UnsafePickleException);
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void everyPrefixOfAValidCheckpointIsRefusedCleanly() throws Exception {
        byte[] whole = Files.readAllBytes(Fixtures.resource("malicious/os_system.bin"));
        Path tmp = Files.createTempFile("prefix", ".bin");
        try {
            for (int n = 0; n < whole.length; n++) {
                Files.write(tmp, java.util.Arrays.copyOf(whole, n));
                Exception e = assertThrows(Exception.class, () -> CheckpointReader.open(tmp).close());
                assertInstanceOf(CheckpointException.class, e, "prefix of " + n + " bytes: " + e);
            }
        } finally {
            Files.delete(tmp);
        }
    }
}
