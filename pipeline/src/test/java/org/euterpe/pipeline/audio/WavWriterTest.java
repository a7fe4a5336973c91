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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WavWriterTest {
    @TempDir
    Path dir;

    /** Chunks of a RIFF file by id (first occurrence), parsed independently of the writer. */
    static Map<String, ByteBuffer> chunks(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("RIFF", ascii(file, 0));
        assertEquals(file.length - 8, b.getInt(4), "RIFF size");
        assertEquals("WAVE", ascii(file, 8));
        Map<String, ByteBuffer> out = new HashMap<>();
        int p = 12;
        while (p + 8 <= file.length) {
            String id = ascii(file, p);
            int size = b.getInt(p + 4);
            out.putIfAbsent(id, ByteBuffer.wrap(file, p + 8, size).slice().order(ByteOrder.LITTLE_ENDIAN));
            p += 8 + size + (size & 1);
        }
        assertEquals(file.length, p, "chunks tile the file");
        return out;
    }

    static String ascii(byte[] b, int at) {
        return new String(b, at, 4, StandardCharsets.US_ASCII);
    }

    @Test
    void pcm16RoundTripsAndCarriesInfo() throws Exception {
        float[] s = {0f, 0.5f, -0.5f, 1f, -1f, 2f, -3f, 1e-5f};
        Map<String, String> info = new LinkedHashMap<>();
        info.put(WavWriter.TITLE, "a dog barking");
        info.put(WavWriter.COMMENT, "seed=42 steps=10 sampler=ddim");
        Path p = dir.resolve("a.wav");
        WavWriter.write(p, s, 16000, WavWriter.Format.PCM16, info);
        Map<String, ByteBuffer> c = chunks(Files.readAllBytes(p));
        ByteBuffer fmt = c.get("fmt ");
        assertEquals(1, fmt.getShort(0), "PCM");
        assertEquals(1, fmt.getShort(2), "mono");
        assertEquals(16000, fmt.getInt(4));
        assertEquals(16, fmt.getShort(14));
        ByteBuffer data = c.get("data");
        assertEquals(s.length * 2, data.remaining());
        short[] expected = {0, 16384, -16384, 32767, -32767, 32767, -32767, 0};
        for (int i = 0; i < s.length; i++) {
            assertEquals(expected[i], data.getShort(2 * i), "sample " + i);
        }
        String list = StandardCharsets.UTF_8.decode(c.get("LIST")).toString();
        assertTrue(list.startsWith("INFO") && list.contains("a dog barking") && list.contains("seed=42"), list);

        // Java's own decoder agrees on the format.
        try (AudioInputStream in = AudioSystem.getAudioInputStream(p.toFile())) {
            AudioFormat f = in.getFormat();
            assertEquals(16000f, f.getSampleRate());
            assertEquals(16, f.getSampleSizeInBits());
            assertEquals(s.length, in.getFrameLength());
        }
    }

    @Test
    void float32KeepsExactValues() throws Exception {
        float[] s = {0.123456789f, -0.75f, 3.5f};
        Path p = dir.resolve("f.wav");
        WavWriter.write(p, s, 44100, WavWriter.Format.FLOAT32, Map.of());
        Map<String, ByteBuffer> c = chunks(Files.readAllBytes(p));
        assertEquals(3, c.get("fmt ").getShort(0), "IEEE float");
        assertEquals(32, c.get("fmt ").getShort(14));
        assertEquals(s.length, c.get("fact").getInt(0));
        for (int i = 0; i < s.length; i++) {
            assertEquals(s[i], c.get("data").getFloat(4 * i));
        }
    }

    @Test
    void badInputLeavesNothingBehind() throws IOException {
        Path p = dir.resolve("bad.wav");
        assertThrows(IllegalArgumentException.class,
                () -> WavWriter.write(p, new float[] {0f, Float.NaN}, 16000, WavWriter.Format.PCM16, Map.of()));
        IOException e = assertThrows(IOException.class, () -> WavWriter.write(dir.resolve("missing/x.wav"),
                new float[] {0f}, 16000, WavWriter.Format.PCM16, Map.of()));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertThrows(IOException.class, () -> AtomicFiles.write(p, out -> {
            out.write(new byte[100]);
            throw new IOException("disk full (simulated)");
        }));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no partial or temporary file is left");
        }
    }
}
