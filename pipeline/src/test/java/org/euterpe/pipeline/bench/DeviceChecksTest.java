package org.euterpe.pipeline.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.junit.jupiter.api.Test;

/** The device kit's agreement and leak checks, run on the CPU backends with the tiny model. */
class DeviceChecksTest {
    private static final Path TINY = TestData.conformanceCase("tiny-audioldm");

    @Test
    void errorsAreRelativeL2MaxAbsAndNonFiniteCount() {
        double[] e = DeviceChecks.errors(new float[] {3, 4, 0}, new float[] {3, 4, 0});
        assertEquals(0, e[0]);
        e = DeviceChecks.errors(new float[] {3, 4, 0}, new float[] {3, 4, 0.5f});
        assertEquals(0.1, e[0], 1e-12); // |d| = 0.5 over |ref| = 5
        assertEquals(0.5, e[1], 1e-12);
        assertEquals(0.125, e[2], 1e-12); // of max |ref| = 4
        e = DeviceChecks.errors(new float[] {1, 2}, new float[] {Float.NaN, 2});
        assertEquals(1, e[3], "a NaN where the reference is finite is counted");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> run(int expectedExit, String... args) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            rc = DeviceChecks.run(args, ps);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, rc, out);
        List<String> lines = out.lines().toList();
        return (Map<String, Object>) Json.parse(lines.getLast());
    }

    @Test
    void cpuIsCloseToTheScalarReferenceOnAUNetStepButAZeroLimitFails() throws Exception {
        // One run (the scalar U-Net is slow): the backends sum in different orders, so the error is
        // small but not zero, and an exact limit must fail: the check can fail.
        Map<String, Object> r = run(1, "agree", TINY.toString(), "--device", "cpu", "--reference", "scalar",
                "--seconds", "1", "--max-rel-l2", "0");
        double relL2 = ((Number) r.get("rel_l2")).doubleValue();
        assertTrue(relL2 > 0 && relL2 < 1e-4, "cpu vs scalar rel L2 " + relL2);
        assertEquals(0L, ((Number) r.get("non_finite")).longValue());
        assertEquals(Boolean.FALSE, r.get("pass"));
    }

    @Test
    void leakCheckRunsGenerationsAndSamplesBeforeAndAfter() throws Exception {
        Map<String, Object> r = run(0, "leak", TINY.toString(), "--device", "cpu", "--runs", "2", "--seconds", "1",
                "--steps", "2");
        List<?> samples = (List<?>) r.get("samples");
        assertEquals(5, samples.size(), "before load, after load, after the first and last generation, after close");
        assertEquals(2L, ((Number) r.get("runs")).longValue());
    }

    @Test
    void badUseIsRefusedWithExitTwo() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            assertEquals(2, DeviceChecks.run(new String[] {"agree"}, ps));
            assertEquals(2, DeviceChecks.run(new String[] {"nope", TINY.toString()}, ps));
            assertEquals(2, DeviceChecks.run(new String[] {"leak", "/no/such/folder", "--device", "cpu"}, ps));
            assertEquals(2, DeviceChecks.run(new String[] {"leak", TINY.toString(), "--runs"}, ps));
        }
    }
}
