package org.euterpe.pipeline.audio;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * RIFF/WAVE files, mono or multi-channel (interleaved frames): 16-bit PCM (clipped to [-1, 1]) or
 * 32-bit IEEE float, with an optional LIST/INFO chunk carrying text tags (prompt, seed, sampler,
 * ...). Written atomically.
 */
public final class WavWriter {
    /** Sample encodings. */
    public enum Format {
        PCM16,
        FLOAT32
    }

    /** INFO chunk ids for the tags the engine writes. */
    public static final String TITLE = "INAM";
    public static final String COMMENT = "ICMT";
    public static final String SOFTWARE = "ISFT";

    /** The largest rate whose byte rate (rate × 4 for float samples) fits the header's 32-bit field. */
    public static final int MAX_SAMPLE_RATE = Integer.MAX_VALUE / 4;

    private WavWriter() {
    }

    /**
     * @param samples mono samples, nominally in [-1, 1]; NaN or infinite values are refused
     * @param info    INFO tags by four-character id (printable ASCII; may be empty)
     * @throws IllegalArgumentException for a rate outside [1, {@link #MAX_SAMPLE_RATE}], a non-finite
     *                                  sample or a malformed INFO id; nothing is written then
     */
    public static void write(Path path, float[] samples, int sampleRate, Format format, Map<String, String> info)
            throws IOException {
        write(path, samples, 1, sampleRate, format, info);
    }

    /**
     * @param frames   {@code channels} samples per frame, interleaved ({@code l0 r0 l1 r1 ...})
     * @param channels 1 to 8
     * @see #write(Path, float[], int, Format, Map)
     */
    public static void write(Path path, float[] frames, int channels, int sampleRate, Format format,
            Map<String, String> info) throws IOException {
        AtomicFiles.write(path, body(frames, channels, sampleRate, format, info));
    }

    /** {@link #body(float[], int, int, Format, Map)} of one channel. */
    public static AtomicFiles.Body body(float[] samples, int sampleRate, Format format, Map<String, String> info) {
        return body(samples, 1, sampleRate, format, info);
    }

    /**
     * The file's bytes as a body for {@link AtomicFiles} (to write several outputs as one set), or
     * for any stream (standard output); the arguments are checked now, as {@link #write} does.
     */
    public static AtomicFiles.Body body(float[] frames, int channels, int sampleRate, Format format,
            Map<String, String> info) {
        float[] samples = frames;
        if (channels < 1 || channels > 8 || samples.length % channels != 0) {
            throw new IllegalArgumentException("channels must be 1..8 and divide the " + samples.length
                    + " samples, got " + channels);
        }
        if ((long) sampleRate * channels > MAX_SAMPLE_RATE) {
            throw new IllegalArgumentException("sample rate " + sampleRate + " x " + channels
                    + " channels is too high for a WAV header");
        }
        if (sampleRate <= 0 || sampleRate > MAX_SAMPLE_RATE) {
            throw new IllegalArgumentException("sample rate must be between 1 and " + MAX_SAMPLE_RATE + " Hz, got "
                    + sampleRate);
        }
        for (int i = 0; i < samples.length; i++) {
            if (!Float.isFinite(samples[i])) {
                throw new IllegalArgumentException("sample " + i + " is " + samples[i] + "; refusing to write it");
            }
        }
        byte[] list = infoChunk(info);
        return out -> writeTo(out, samples, channels, sampleRate, format, list);
    }

    private static void writeTo(OutputStream out, float[] samples, int channels, int rate, Format format,
            byte[] list) throws IOException {
        int bytesPerSample = format == Format.PCM16 ? 2 : 4;
        long dataBytes = (long) samples.length * bytesPerSample;
        int fmtSize = format == Format.PCM16 ? 16 : 18;
        // fact chunk: required by the spec for non-PCM formats.
        int factSize = format == Format.FLOAT32 ? 12 : 0;
        long riffSize = 4 + (8 + fmtSize) + factSize + list.length + 8 + dataBytes + (dataBytes & 1);
        if (riffSize > 0xFFFFFFFFL) {
            throw new IOException("audio too long for a WAV file (" + samples.length + " samples)");
        }
        ByteBuffer h = ByteBuffer.allocate(12 + 8 + fmtSize + factSize).order(ByteOrder.LITTLE_ENDIAN);
        h.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt((int) riffSize)
                .put("WAVE".getBytes(StandardCharsets.US_ASCII));
        h.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(fmtSize);
        h.putShort((short) (format == Format.PCM16 ? 1 : 3)); // PCM or IEEE float
        h.putShort((short) channels);
        h.putInt(rate);
        h.putInt(rate * channels * bytesPerSample);
        h.putShort((short) (channels * bytesPerSample)); // block align: one frame
        h.putShort((short) (bytesPerSample * 8));
        if (format == Format.FLOAT32) {
            h.putShort((short) 0); // cbSize
            h.put("fact".getBytes(StandardCharsets.US_ASCII)).putInt(4).putInt(samples.length / channels); // frames
        }
        out.write(h.array());
        out.write(list);
        ByteBuffer d = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        d.put("data".getBytes(StandardCharsets.US_ASCII)).putInt((int) dataBytes);
        out.write(d.array());
        ByteBuffer buf = ByteBuffer.allocate(1 << 14).order(ByteOrder.LITTLE_ENDIAN);
        for (float s : samples) {
            if (buf.remaining() < 4) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            if (format == Format.PCM16) {
                float c = Math.max(-1f, Math.min(1f, s));
                buf.putShort((short) Math.rint(c * 32767f)); // half-even: symmetric around 0
            } else {
                buf.putFloat(s);
            }
        }
        out.write(buf.array(), 0, buf.position());
        if ((dataBytes & 1) != 0) {
            out.write(0);
        }
    }

    /** A LIST chunk of type INFO, or nothing when there are no tags. */
    static byte[] infoChunk(Map<String, String> info) {
        if (info.isEmpty()) {
            return new byte[0];
        }
        Map<String, byte[]> values = new LinkedHashMap<>();
        int size = 4; // "INFO"
        for (Map.Entry<String, String> e : info.entrySet()) {
            // One byte per character, or the chunk sizes computed here would not match what is written.
            if (e.getKey().length() != 4 || !e.getKey().chars().allMatch(c -> c >= 0x20 && c < 0x7F)) {
                throw new IllegalArgumentException("INFO ids are four printable ASCII characters, got \""
                        + e.getKey() + "\"");
            }
            byte[] v = (e.getValue() + "\0").getBytes(StandardCharsets.UTF_8);
            values.put(e.getKey(), v);
            size += 8 + v.length + (v.length & 1);
        }
        ByteBuffer b = ByteBuffer.allocate(8 + size).order(ByteOrder.LITTLE_ENDIAN);
        b.put("LIST".getBytes(StandardCharsets.US_ASCII)).putInt(size).put("INFO".getBytes(StandardCharsets.US_ASCII));
        for (Map.Entry<String, byte[]> e : values.entrySet()) {
            b.put(e.getKey().getBytes(StandardCharsets.US_ASCII)).putInt(e.getValue().length).put(e.getValue());
            if ((e.getValue().length & 1) != 0) {
                b.put((byte) 0);
            }
        }
        return b.array();
    }
}
