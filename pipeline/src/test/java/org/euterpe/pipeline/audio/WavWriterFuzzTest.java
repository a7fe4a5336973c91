package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the WAV writer with arbitrary samples, rates, formats and INFO tags, and parses every file it
 * writes back chunk by chunk (RIFF/WAVE as Microsoft's spec lays it out): the RIFF size must be the file
 * size, the chunks must tile the file, the fmt fields must agree with each other, and the data must be
 * the samples (float bits exactly; PCM16 as round-half-even of the clipped sample × 32767). Allowed
 * outcomes besides a correct file: the documented IllegalArgumentException for a non-positive or
 * unrepresentable rate, a non-finite sample or a bad INFO id, and then no file at all.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code WavWriterFuzzTestInputs/writeThenParse/} as a plain test.
 */
class WavWriterFuzzTest {
    private static Path dir;

    @BeforeAll
    static void createDir() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")),
                "euterpe-fuzz-");
    }

    @AfterAll
    static void removeDir() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void writeThenParse(FuzzedDataProvider data) throws IOException {
        WavWriter.Format format = data.consumeBoolean() ? WavWriter.Format.PCM16 : WavWriter.Format.FLOAT32;
        int rate = data.consumeInt();
        Map<String, String> info = new LinkedHashMap<>();
        int tags = data.consumeInt(0, 3);
        for (int i = 0; i < tags; i++) {
            info.put(data.consumeString(6), data.consumeString(40));
        }
        float[] samples = new float[data.remainingBytes() / 4];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = data.consumeFloat();
        }
        Path out = dir.resolve("out.wav");
        Files.deleteIfExists(out);
        try {
            WavWriter.write(out, samples, rate, format, info);
        } catch (IllegalArgumentException refused) {
            assertTrue(!Files.exists(out), "a refused write left a file");
            assertTrue(rate <= 0 || rate > WavWriter.MAX_SAMPLE_RATE || !allFinite(samples) || !validIds(info),
                    () -> "refused a valid write: " + refused.getMessage());
            try (var files = Files.list(dir)) {
                assertEquals(0, files.count(), "temporary file left behind");
            }
            return;
        }
        assertTrue(rate > 0 && rate <= WavWriter.MAX_SAMPLE_RATE && allFinite(samples) && validIds(info));
        parse(Files.readAllBytes(out), samples, rate, format, info);
    }

    private static boolean allFinite(float[] x) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    private static boolean validIds(Map<String, String> info) {
        for (String id : info.keySet()) {
            if (id.length() != 4 || !id.chars().allMatch(c -> c >= 0x20 && c < 0x7F)) {
                return false;
            }
        }
        return true;
    }

    private static void parse(byte[] file, float[] samples, int rate, WavWriter.Format format,
            Map<String, String> info) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("RIFF", fourCc(b));
        assertEquals(file.length - 8, b.getInt(), "RIFF size");
        assertEquals("WAVE", fourCc(b));
        boolean pcm = format == WavWriter.Format.PCM16;
        int bytesPerSample = pcm ? 2 : 4;
        Map<String, String> tags = new LinkedHashMap<>();
        boolean sawFmt = false;
        boolean sawData = false;
        while (b.hasRemaining()) {
            String id = fourCc(b);
            int size = b.getInt();
            assertTrue(size >= 0 && size <= b.remaining(), () -> id + " chunk overruns the file");
            int end = b.position() + size;
            switch (id) {
                case "fmt " -> {
                    sawFmt = true;
                    assertEquals(pcm ? 1 : 3, b.getShort(), "format tag");
                    assertEquals(1, b.getShort(), "channels");
                    assertEquals(rate, b.getInt(), "sample rate");
                    assertEquals((long) rate * bytesPerSample, Integer.toUnsignedLong(b.getInt()), "byte rate");
                    assertEquals(bytesPerSample, b.getShort(), "block align");
                    assertEquals(8 * bytesPerSample, b.getShort(), "bits per sample");
                    if (!pcm) {
                        assertEquals(0, b.getShort(), "cbSize of a WAVE_FORMAT_IEEE_FLOAT fmt chunk");
                    }
                }
                case "fact" -> assertEquals(samples.length, b.getInt(), "fact sample count");
                case "LIST" -> {
                    assertEquals("INFO", fourCc(b));
                    while (b.position() < end) {
                        String tag = fourCc(b);
                        byte[] v = new byte[b.getInt()];
                        b.get(v);
                        if ((v.length & 1) != 0) {
                            b.get();
                        }
                        assertEquals(0, v[v.length - 1], "INFO text ends with NUL");
                        tags.put(tag, new String(v, 0, v.length - 1, StandardCharsets.UTF_8));
                    }
                }
                case "data" -> {
                    sawData = true;
                    assertEquals((long) samples.length * bytesPerSample, size, "data size");
                    for (int i = 0; i < samples.length; i++) {
                        if (pcm) {
                            float c = Math.max(-1f, Math.min(1f, samples[i]));
                            assertEquals((short) Math.rint(c * 32767f), b.getShort(), "sample " + i);
                        } else {
                            assertEquals(Float.floatToRawIntBits(samples[i]), b.getInt(), "sample " + i);
                        }
                    }
                }
                default -> throw new AssertionError("unexpected chunk " + id);
            }
            assertEquals(end, b.position(), id + " chunk size");
            b.position(end + (size & 1));
        }
        assertTrue(sawFmt && sawData);
        Map<String, String> expected = new LinkedHashMap<>();
        info.forEach((k, v) -> expected.put(k, new String(v.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)));
        assertEquals(expected, tags);
    }

    private static String fourCc(ByteBuffer b) {
        byte[] id = new byte[4];
        b.get(id);
        return new String(id, StandardCharsets.US_ASCII);
    }
}
