package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The WAV reader against files written by sox in every format it reads, and its refusals. */
class WavReaderTest {
    @TempDir
    Path dir;

    /** Deterministic test signal in [-0.95, 0.95] with exact full-scale values too, per channel. */
    static float[][] signal(int channels, int frames) {
        Random r = new Random(channels * 1000L + frames);
        float[][] x = new float[channels][frames];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < frames; i++) {
                x[c][i] = (float) (0.95 * (2 * r.nextDouble() - 1));
            }
            x[c][0] = -1f;
            x[c][1] = 0f;
            x[c][2] = 0.5f;
        }
        return x;
    }

    /**
     * sox converts the raw float reference to each encoding (no dither); the reader must give back the
     * reference within one step of the encoding (sox rounds on the way in), plus float rounding.
     */
    @Test
    void readsEveryFormatSoxWrites() throws Exception {
        Sox.assume();
        String[][] formats = { // sox encoding, bits, file type, quantisation step
                {"unsigned-integer", "8", "wav"}, {"signed-integer", "16", "wav"}, {"signed-integer", "24", "wav"},
                {"signed-integer", "32", "wav"}, {"floating-point", "32", "wav"}, {"floating-point", "64", "wav"},
                // wavpcm: sox's plain WAVEFORMATEX header even where it would choose EXTENSIBLE
                {"signed-integer", "24", "wavpcm"}, {"floating-point", "32", "wavpcm"}};
        int[] channelCounts = {1, 2, 3, 6};
        int checked = 0;
        for (String[] f : formats) {
            for (int channels : channelCounts) {
                int frames = 1001; // odd: with 8-bit mono, an odd data chunk and its pad byte
                float[][] ref = signal(channels, frames);
                Path raw = dir.resolve("ref.f32");
                Sox.writeRawF32(raw, ref);
                Path wav = dir.resolve("x-" + f[0] + f[1] + f[2] + channels + ".wav");
                Sox.run("-D", "-t", "f32", "-r", "22050", "-c", Integer.toString(channels), raw.toString(),
                        "-t", f[2], "-e", f[0], "-b", f[1], wav.toString());
                WavReader.Audio a = WavReader.read(wav);
                String what = f[0] + " " + f[1] + " (" + f[2] + "), " + channels + " ch";
                assertEquals(22050, a.sampleRate(), what);
                assertEquals(channels, a.channelCount(), what);
                assertEquals(frames, a.frames(), what);
                int bits = Integer.parseInt(f[1]);
                // sox carries samples as 32-bit integers inside and converts float in single precision, so
                // float files come back within a few float ulps (1.3e-8 seen); bit-exact float decoding is
                // checked against WavWriter's files below.
                boolean isFloat = f[0].equals("floating-point");
                for (int c = 0; c < channels; c++) {
                    for (int i = 0; i < frames; i++) {
                        double tol = isFloat ? 1e-7 : Math.scalb(1.0, 1 - bits) + Math.ulp(ref[c][i]); // one step
                        double err = Math.abs(a.channels()[c][i] - ref[c][i]);
                        if (err > tol) {
                            throw new AssertionError(what + ": channel " + c + " frame " + i + " read "
                                    + a.channels()[c][i] + ", wrote " + ref[c][i]);
                        }
                    }
                }
                checked++;
            }
        }
        assertEquals(formats.length * channelCounts.length, checked);
    }

    @Test
    void extensibleChannelMaskIsKept() throws Exception {
        Sox.assume();
        Path raw = dir.resolve("s.f32");
        Sox.writeRawF32(raw, signal(2, 100));
        Path wav = dir.resolve("s.wav");
        Sox.run("-D", "-t", "f32", "-r", "48000", "-c", "2", raw.toString(), "-b", "24", wav.toString());
        byte[] bytes = Files.readAllBytes(wav);
        assertEquals(0xFFFE, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getShort(20) & 0xFFFF,
                "sox should write 24-bit stereo as WAVE_FORMAT_EXTENSIBLE");
        assertEquals(3, WavReader.read(wav).channelMask()); // FL | FR
    }

    @Test
    void refusesCodecsItDoesNotDecode() throws Exception {
        Sox.assume();
        Path raw = dir.resolve("s.f32");
        Sox.writeRawF32(raw, signal(1, 2000));
        for (String[] e : new String[][] {{"ms-adpcm", "4", "ADPCM"}, {"a-law", "8", "A-law"},
                {"mu-law", "8", "mu-law"}, {"ima-adpcm", "4", "IMA ADPCM"}}) {
            Path wav = dir.resolve(e[0] + ".wav");
            Sox.run("-D", "-t", "f32", "-r", "8000", "-c", "1", raw.toString(), "-e", e[0], "-b", e[1],
                    wav.toString());
            AudioFileException ex = assertThrows(AudioFileException.class, () -> WavReader.read(wav));
            assertTrue(ex.getMessage().contains(e[2]) && ex.getMessage().contains(wav.toString()),
                    ex.getMessage());
        }
        Path flac = dir.resolve("x.flac");
        Sox.run("-t", "f32", "-r", "8000", "-c", "1", raw.toString(), "-b", "16", flac.toString());
        assertTrue(assertThrows(AudioFileException.class, () -> WavReader.read(flac)).getMessage()
                .contains("FLAC"));
    }

    /** A hand-built file: RIFF header, then the chunks given. */
    static byte[] riff(byte[]... chunks) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes("WAVE".getBytes(StandardCharsets.US_ASCII));
        for (byte[] c : chunks) {
            body.writeBytes(c);
        }
        ByteBuffer h = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        h.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(body.size());
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(h.array());
        all.writeBytes(body.toByteArray());
        return all.toByteArray();
    }

    static byte[] chunk(String id, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(8 + body.length + (body.length & 1)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(id.getBytes(StandardCharsets.US_ASCII)).putInt(body.length).put(body);
        return b.array();
    }

    static byte[] fmt(int tag, int channels, int rate, int blockAlign, int bits) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) tag).putShort((short) channels).putInt(rate).putInt(rate * blockAlign)
                .putShort((short) blockAlign).putShort((short) bits);
        return chunk("fmt ", b.array());
    }

    static byte[] pcm16(short... s) {
        ByteBuffer b = ByteBuffer.allocate(s.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : s) {
            b.putShort(v);
        }
        return b.array();
    }

    static String refusal(byte[] file) {
        return assertThrows(AudioFileException.class, () -> WavReader.parse(file)).getMessage();
    }

    @Test
    void handBuiltLayouts() throws Exception {
        // data before fmt, a LIST chunk of odd size with its pad byte, stereo 16-bit
        byte[] f = riff(chunk("LIST", new byte[] {'I', 'N', 'F', 'O', 'x'}),
                chunk("data", pcm16((short) 16384, (short) -32768, (short) 0, (short) 32767)),
                fmt(1, 2, 16000, 4, 16));
        WavReader.Audio a = WavReader.parse(f);
        assertArrayEquals(new float[] {0.5f, 0f}, a.channels()[0]);
        assertArrayEquals(new float[] {-1f, 32767 / 32768f}, a.channels()[1]);
        // data chunk size beyond the file (a stream's placeholder): the whole frames that are there
        byte[] g = riff(fmt(1, 1, 8000, 2, 16), chunk("data", pcm16((short) 1, (short) 2, (short) 3)));
        ByteBuffer.wrap(g).order(ByteOrder.LITTLE_ENDIAN).putInt(g.length - 6 - 4, 0xFFFFFFFF);
        assertEquals(3, WavReader.parse(g).frames());
        // 64-bit float and 24-bit negative samples, exactly
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-0.75);
        assertArrayEquals(new float[] {0.1f, -0.75f}, WavReader.parse(riff(fmt(3, 1, 8000, 8, 64),
                chunk("data", d.array()))).mono());
        byte[] s24 = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0, 0, (byte) 0x80, (byte) 0xFF, (byte) 0xFF, 0x7F};
        assertArrayEquals(new float[] {-1 / 8388608f, -1f, 1 - 1 / 8388608f},
                WavReader.parse(riff(fmt(1, 1, 8000, 3, 24), chunk("data", s24))).mono());
        byte[] u8 = {0, (byte) 128, (byte) 255};
        assertArrayEquals(new float[] {-1f, 0f, 127 / 128f},
                WavReader.parse(riff(fmt(1, 1, 8000, 1, 8), chunk("data", u8))).mono());
        // the RIFF size field is ignored
        ByteBuffer.wrap(g).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 0);
        assertEquals(3, WavReader.parse(g).frames());
    }

    @Test
    void malformedHeadersGetClearErrors() {
        byte[] data = chunk("data", pcm16((short) 1, (short) 2));
        assertTrue(refusal(new byte[0]).contains("too short"));
        assertTrue(refusal("RIFX\0\0\0\0WAVE".getBytes(StandardCharsets.US_ASCII)).contains("RIFX"));
        assertTrue(refusal("fLaC\0\0\0\"\0\0\0\0".getBytes(StandardCharsets.US_ASCII)).contains("FLAC"));
        assertTrue(refusal("RIFF\0\0\0\0AVI ".getBytes(StandardCharsets.US_ASCII)).contains("AVI"));
        assertTrue(refusal(riff(data)).contains("no fmt chunk"));
        assertTrue(refusal(riff(fmt(1, 1, 8000, 2, 16))).contains("no data chunk"));
        assertTrue(refusal(riff(fmt(1, 1, 8000, 2, 16), fmt(1, 1, 8000, 2, 16), data)).contains("two fmt"));
        assertTrue(refusal(riff(fmt(1, 1, 8000, 2, 16), data, data)).contains("two data"));
        assertTrue(refusal(riff(fmt(1, 0, 8000, 2, 16), data)).contains("0 channels"));
        assertTrue(refusal(riff(fmt(1, 1, 0, 2, 16), data)).contains("sample rate 0"));
        assertTrue(refusal(riff(fmt(1, 1, 8000, 4, 16), data)).contains("block align"));
        assertTrue(refusal(riff(fmt(1, 1, 8000, 2, 12), data)).contains("12-bit"));
        assertTrue(refusal(riff(fmt(3, 1, 8000, 2, 16), data)).contains("16-bit float"));
        assertTrue(refusal(riff(fmt(2, 1, 8000, 2, 16), data)).contains("ADPCM"));
        assertTrue(refusal(riff(chunk("fmt ", new byte[10]), data)).contains("at least 16"));
        assertTrue(refusal(riff(fmt(0xFFFE, 1, 8000, 2, 16), data)).contains("40-byte"));
        assertTrue(refusal(riff(fmt(1, 1, 8000, 2, 16), chunk("data", new byte[0]))).contains("no audio"));
        assertTrue(refusal(riff(fmt(1, 1, 8000, 2, 16), chunk("data", new byte[1]))).contains("no audio"));
        ByteBuffer nan = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
        assertTrue(refusal(riff(fmt(3, 1, 8000, 4, 32), chunk("data", nan.array()))).contains("NaN"));
        // fmt chunk size past the end of the file
        byte[] cut = riff(fmt(1, 1, 8000, 2, 16));
        ByteBuffer.wrap(cut).order(ByteOrder.LITTLE_ENDIAN).putInt(16, 1000);
        assertTrue(refusal(cut).contains("past the end"));
    }

    @Test
    void missingUnreadableAndFolderNameTheFile() throws Exception {
        Path missing = dir.resolve("nope.wav");
        AudioFileException e = assertThrows(AudioFileException.class, () -> WavReader.read(missing));
        assertTrue(e.getMessage().contains("nope.wav") && e.getMessage().contains("no such file"), e.getMessage());
        assertTrue(assertThrows(AudioFileException.class, () -> WavReader.read(dir)).getMessage().contains("folder"));
        Path bad = dir.resolve("bad.wav");
        Files.write(bad, "hello".getBytes(StandardCharsets.US_ASCII));
        assertTrue(assertThrows(AudioFileException.class, () -> WavReader.read(bad)).getMessage()
                .startsWith(bad.toString()));
    }

    @Test
    void readsWhatWavWriterWrites() throws IOException {
        float[] x = {0.25f, -0.5f, 1e-3f};
        Path p = dir.resolve("w.wav");
        WavWriter.write(p, x, 16000, WavWriter.Format.FLOAT32, Map.of("ICMT", "a comment"));
        WavReader.Audio a = WavReader.read(p);
        assertArrayEquals(x, a.channels()[0]);
        assertEquals(16000, a.sampleRate());
        WavWriter.write(p, x, 16000, WavWriter.Format.PCM16, Map.of());
        float[] y = WavReader.read(p).mono();
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], y[i], 1 / 32768.0 + 1 / 65536.0);
        }
    }

    @Test
    void channelMapping() {
        float[] l = {1, 0, 0.5f};
        float[] r = {0, 1, -0.5f};
        float[] c = {0.2f, 0.2f, 0.2f};
        // mono: mean of the channels
        assertArrayEquals(new float[] {0.5f, 0.5f, 0f}, new WavReader.Audio(new float[][] {l, r}, 8000, 0).mono());
        // mono to stereo: copied
        float[][] up = new WavReader.Audio(new float[][] {l}, 8000, 0).toChannels(2);
        assertArrayEquals(l, up[0]);
        assertArrayEquals(l, up[1]);
        // three channels without a mask are FL, FR, FC: L = (FL + FC / sqrt 2) / (1 + 1 / sqrt 2)
        float[][] st = new WavReader.Audio(new float[][] {l, r, c}, 8000, 0).toChannels(2);
        double k = Math.sqrt(0.5);
        for (int i = 0; i < 3; i++) {
            assertEquals((l[i] + k * c[i]) / (1 + k), st[0][i], 1e-6);
            assertEquals((r[i] + k * c[i]) / (1 + k), st[1][i], 1e-6);
        }
        // 5.1 (FL FR FC LFE BL BR, mask 0x3F): LFE dropped, back speakers to their side
        float[] lfe = {9, 9, 9};
        float[][] five = new WavReader.Audio(new float[][] {l, r, c, lfe, l, r}, 8000, 0x3F).toChannels(2);
        for (int i = 0; i < 3; i++) {
            assertEquals((2 * l[i] + k * c[i]) / (2 + k), five[0][i], 1e-6);
            assertEquals((2 * r[i] + k * c[i]) / (2 + k), five[1][i], 1e-6);
        }
        // a signal in every channel keeps its level
        float[] one = {1, 1, 1};
        float[][] all = new WavReader.Audio(new float[][] {one, one, one, one, one, one}, 8000, 0x3F).toChannels(2);
        assertArrayEquals(one, all[0], 1e-6f);
        // other counts: fold by j mod N, repeat by k mod M
        float[][] four = new WavReader.Audio(new float[][] {l, r, c, one}, 8000, 0).toChannels(3);
        for (int i = 0; i < 3; i++) {
            assertEquals((l[i] + one[i]) / 2, four[0][i], 1e-6);
        }
        assertArrayEquals(r, four[1]);
        float[][] three = new WavReader.Audio(new float[][] {l, r}, 8000, 0).toChannels(3);
        assertArrayEquals(l, three[2]);
        assertThrows(IllegalArgumentException.class, () -> new WavReader.Audio(new float[][] {l}, 8000, 0)
                .toChannels(0));
    }
}
