package org.euterpe.pipeline.audio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads RIFF/WAVE files into float samples, one array per channel.
 *
 * <p>Codecs: integer PCM of 8 (unsigned), 16, 24 and 32 bits, scaled by 2^(bits-1) so full scale is
 * [-1, 1); IEEE float of 32 and 64 bits, as stored; each also inside WAVE_FORMAT_EXTENSIBLE (the
 * container size is decoded, so left-justified samples with fewer valid bits read correctly). Any channel
 * count (1-65535) and rate. Anything else (ADPCM, A-law, mu-law, RF64, RIFX, 12-bit containers, ...) is
 * refused with an {@link AudioFileException} naming the codec.
 *
 * <p>Layout rules: chunks may come in any order; unknown chunks (LIST, fact, cue, ...) are skipped, with
 * the RIFF pad byte after odd-sized chunks. The RIFF size field is not trusted (streaming writers leave it
 * 0 or 0xFFFFFFFF): the file's length bounds the chunks. A data chunk that claims more bytes than the file
 * holds (a file cut short, or a stream's placeholder size) is read up to the last whole frame, as sox and
 * libsndfile do. Refused with a message: no RIFF/WAVE header, no fmt or no data chunk, two of either, a
 * fmt chunk too short for its format tag, zero channels or rate, a block align that disagrees with the
 * channels and sample size, no whole frame of samples (zero-length audio), and NaN or infinite float
 * samples.
 *
 * <p>Channel mapping ({@link Audio#toChannels(int)}), for a model that wants N channels from a file of M:
 * <ul>
 *   <li>M = N: unchanged.</li>
 *   <li>N = 1: the mean of all M channels (what librosa and torchaudio's {@code mean(0)} do).</li>
 *   <li>M = 1: the one channel copied to all N.</li>
 *   <li>N = 2, M &gt; 2: speakers on the left (front left, back left, side left, front left of centre, top
 *       front/back left) go to the left output, those on the right to the right output, centre speakers
 *       (front, back and top centre) to both at 1/sqrt(2); the low-frequency channel is dropped. Each output
 *       is divided by the sum of its weights so a signal in every channel keeps its level. Positions come
 *       from WAVE_FORMAT_EXTENSIBLE's channel mask, or when it is zero or absent, from the first M speaker
 *       positions in the mask's order (FL, FR, FC, LFE, BL, BR, FLC, FRC, BC, SL, SR, TC, ...), the order
 *       the WAVE spec assigns to unmasked channels.</li>
 *   <li>Otherwise: with M &gt; N, output k is the mean of the inputs j with j mod N = k; with M &lt; N,
 *       output k repeats input k mod M.</li>
 * </ul>
 */
public final class WavReader {
    /** Files above this size are refused rather than read into memory (2 GiB minus a little: a Java array). */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 64;

    private static final int PCM = 1;
    private static final int IEEE_FLOAT = 3;
    private static final int EXTENSIBLE = 0xFFFE;
    /** The tail of the KSDATAFORMAT_SUBTYPE GUIDs: {xxxxxxxx-0000-0010-8000-00aa00389b71}, bytes 2-15. */
    private static final byte[] GUID_TAIL = {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38,
            (byte) 0x9B, 0x71};

    private WavReader() {
    }

    /**
     * Decoded audio.
     *
     * @param channels    {@code [channel][frame]} samples, every channel the same length (at least 1 frame)
     * @param sampleRate  frames per second
     * @param channelMask WAVE_FORMAT_EXTENSIBLE's speaker mask, or 0 when the file has none
     */
    public record Audio(float[][] channels, int sampleRate, int channelMask) {
        public int channelCount() {
            return channels.length;
        }

        public int frames() {
            return channels[0].length;
        }

        public double seconds() {
            return frames() / (double) sampleRate;
        }

        /** The samples mapped to one channel: the mean of all channels. */
        public float[] mono() {
            return toChannels(1)[0];
        }

        /** The samples mapped to {@code n} channels by the rules in {@link WavReader}'s doc; a fresh array. */
        public float[][] toChannels(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("channel count must be at least 1, got " + n);
            }
            int m = channels.length;
            int len = frames();
            float[][] out = new float[n][];
            if (m == n) {
                for (int c = 0; c < n; c++) {
                    out[c] = channels[c].clone();
                }
                return out;
            }
            if (m == 1) {
                for (int c = 0; c < n; c++) {
                    out[c] = channels[0].clone();
                }
                return out;
            }
            double[][] weights = new double[n][m]; // out[k] = sum_j weights[k][j] * in[j]
            if (n == 1) {
                java.util.Arrays.fill(weights[0], 1.0 / m);
            } else if (n == 2) {
                stereoWeights(weights, m, channelMask);
            } else if (m > n) {
                for (int j = 0; j < m; j++) {
                    weights[j % n][j] = 1;
                }
                for (double[] w : weights) {
                    normalise(w);
                }
            } else {
                for (int k = 0; k < n; k++) {
                    weights[k][k % m] = 1;
                }
            }
            for (int k = 0; k < n; k++) {
                double[] acc = new double[len];
                for (int j = 0; j < m; j++) {
                    double w = weights[k][j];
                    if (w != 0) {
                        float[] in = channels[j];
                        for (int i = 0; i < len; i++) {
                            acc[i] += w * in[i];
                        }
                    }
                }
                float[] o = new float[len];
                for (int i = 0; i < len; i++) {
                    o[i] = (float) acc[i];
                }
                out[k] = o;
            }
            return out;
        }
    }

    // Speaker bits of the WAVE channel mask, in channel order.
    private static final int[] LEFT_BITS = {0, 4, 6, 9, 12, 15}; // FL, BL, FLC, SL, TFL, TBL
    private static final int[] RIGHT_BITS = {1, 5, 7, 10, 14, 17}; // FR, BR, FRC, SR, TFR, TBR
    private static final int[] CENTRE_BITS = {2, 8, 11, 13, 16}; // FC, BC, TC, TFC, TBC

    private static void stereoWeights(double[][] w, int m, int mask) {
        int[] bitOf = new int[m];
        int c = 0;
        if (mask != 0) {
            for (int bit = 0; bit < 32 && c < m; bit++) {
                if ((mask & (1 << bit)) != 0) {
                    bitOf[c++] = bit;
                }
            }
        }
        // Channels beyond the mask (or all of them without one) take the next positions in mask order.
        int next = c == 0 ? 0 : bitOf[c - 1] + 1;
        while (c < m) {
            bitOf[c++] = next < 32 ? next++ : -1;
        }
        for (int j = 0; j < m; j++) {
            int bit = bitOf[j];
            if (contains(LEFT_BITS, bit)) {
                w[0][j] = 1;
            } else if (contains(RIGHT_BITS, bit)) {
                w[1][j] = 1;
            } else if (contains(CENTRE_BITS, bit)) {
                w[0][j] = Math.sqrt(0.5);
                w[1][j] = Math.sqrt(0.5);
            } else if (bit != 3) { // LFE is dropped; unknown positions count as centre
                w[0][j] = Math.sqrt(0.5);
                w[1][j] = Math.sqrt(0.5);
            }
        }
        normalise(w[0]);
        normalise(w[1]);
    }

    private static boolean contains(int[] bits, int bit) {
        for (int b : bits) {
            if (b == bit) {
                return true;
            }
        }
        return false;
    }

    private static void normalise(double[] w) {
        double sum = 0;
        for (double x : w) {
            sum += x;
        }
        if (sum > 0) {
            for (int i = 0; i < w.length; i++) {
                w[i] /= sum;
            }
        }
    }

    /**
     * Reads a WAV file.
     *
     * @throws AudioFileException naming the file and the problem: missing, unreadable, a folder, too large,
     *                            malformed, an unsupported codec, or no samples
     */
    public static Audio read(Path path) throws AudioFileException {
        byte[] bytes;
        try {
            if (Files.isDirectory(path)) {
                throw new AudioFileException("cannot read audio " + path + ": it is a folder");
            }
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size > MAX_FILE_BYTES) {
                    throw new AudioFileException("cannot read audio " + path + ": " + size
                            + " bytes is larger than the " + MAX_FILE_BYTES + " bytes this reader holds in memory");
                }
                ByteBuffer buf = ByteBuffer.allocate((int) size);
                while (buf.hasRemaining() && ch.read(buf) >= 0) {
                    // read until full or end of file
                }
                bytes = buf.flip().remaining() == buf.capacity() ? buf.array()
                        : java.util.Arrays.copyOf(buf.array(), buf.limit());
            }
        } catch (NoSuchFileException e) {
            throw new AudioFileException("cannot read audio " + path + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new AudioFileException("cannot read audio " + path + ": permission denied", e);
        } catch (AudioFileException e) {
            throw e;
        } catch (IOException e) {
            throw new AudioFileException("cannot read audio " + path + ": " + e.getMessage(), e);
        }
        try {
            return parse(bytes);
        } catch (AudioFileException e) {
            throw new AudioFileException(path + ": " + e.getMessage(), e);
        }
    }

    /** Parses a WAV file's bytes; {@link AudioFileException} for anything this reader refuses. */
    public static Audio parse(byte[] bytes) throws AudioFileException {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12) {
            throw new AudioFileException("not a WAV file: " + bytes.length + " bytes is too short for a RIFF header");
        }
        String riff = fourCC(b, 0);
        if (!riff.equals("RIFF")) {
            throw new AudioFileException(switch (riff) {
                case "RIFX" -> "big-endian WAV (RIFX) is not supported";
                case "RF64" -> "RF64 (64-bit WAV) is not supported";
                case "fLaC" -> "this is a FLAC file; only WAV is read (convert it, e.g. sox in.flac out.wav)";
                default -> "not a WAV file: it does not start with RIFF";
            });
        }
        if (!fourCC(b, 8).equals("WAVE")) {
            throw new AudioFileException("not a WAV file: a RIFF file of type \"" + printable(fourCC(b, 8))
                    + "\", not WAVE");
        }
        long fmtAt = -1;
        long fmtSize = 0;
        long dataAt = -1;
        long dataSize = 0;
        long pos = 12;
        long end = bytes.length;
        while (pos + 8 <= end) {
            String id = fourCC(b, (int) pos);
            long size = Integer.toUnsignedLong(b.getInt((int) pos + 4));
            long body = pos + 8;
            if (id.equals("fmt ")) {
                if (fmtAt >= 0) {
                    throw new AudioFileException("malformed WAV: two fmt chunks");
                }
                if (body + size > end) {
                    throw new AudioFileException("malformed WAV: the fmt chunk (" + size
                            + " bytes) runs past the end of the file");
                }
                fmtAt = body;
                fmtSize = size;
            } else if (id.equals("data")) {
                if (dataAt >= 0) {
                    throw new AudioFileException("malformed WAV: two data chunks");
                }
                dataAt = body;
                dataSize = Math.min(size, end - body); // cut short or a streaming placeholder: what is there
            }
            pos = body + size + (size & 1);
        }
        if (fmtAt < 0) {
            throw new AudioFileException("malformed WAV: no fmt chunk");
        }
        if (dataAt < 0) {
            throw new AudioFileException("malformed WAV: no data chunk");
        }
        return decode(b, (int) fmtAt, fmtSize, (int) dataAt, dataSize);
    }

    private static Audio decode(ByteBuffer b, int fmt, long fmtSize, int data, long dataSize)
            throws AudioFileException {
        if (fmtSize < 16) {
            throw new AudioFileException("malformed WAV: the fmt chunk has " + fmtSize + " bytes, at least 16 needed");
        }
        int tag = Short.toUnsignedInt(b.getShort(fmt));
        int channels = Short.toUnsignedInt(b.getShort(fmt + 2));
        long rate = Integer.toUnsignedLong(b.getInt(fmt + 4));
        int blockAlign = Short.toUnsignedInt(b.getShort(fmt + 12));
        int bits = Short.toUnsignedInt(b.getShort(fmt + 14));
        int channelMask = 0;
        int codec = tag;
        if (tag == EXTENSIBLE) {
            if (fmtSize < 40) {
                throw new AudioFileException("malformed WAV: WAVE_FORMAT_EXTENSIBLE needs a 40-byte fmt chunk, this"
                        + " one has " + fmtSize);
            }
            int validBits = Short.toUnsignedInt(b.getShort(fmt + 18));
            channelMask = b.getInt(fmt + 20);
            codec = Short.toUnsignedInt(b.getShort(fmt + 24));
            for (int i = 0; i < GUID_TAIL.length; i++) {
                if (b.get(fmt + 26 + i) != GUID_TAIL[i]) {
                    throw new AudioFileException("unsupported WAV codec: WAVE_FORMAT_EXTENSIBLE with a sub-format GUID"
                            + " that is not a standard KSDATAFORMAT_SUBTYPE");
                }
            }
            if (validBits > bits) {
                throw new AudioFileException("malformed WAV: " + validBits + " valid bits in a " + bits
                        + "-bit container");
            }
        }
        if (codec != PCM && codec != IEEE_FLOAT) {
            throw new AudioFileException("unsupported WAV codec: format tag 0x" + Integer.toHexString(codec)
                    + " (" + codecName(codec) + "); integer PCM and IEEE float are read");
        }
        if (channels == 0) {
            throw new AudioFileException("malformed WAV: 0 channels");
        }
        if (rate == 0 || rate > Integer.MAX_VALUE) {
            throw new AudioFileException("malformed WAV: sample rate " + rate);
        }
        boolean supported = codec == PCM ? bits == 8 || bits == 16 || bits == 24 || bits == 32
                : bits == 32 || bits == 64;
        if (!supported) {
            throw new AudioFileException("unsupported WAV codec: " + bits + "-bit " + (codec == PCM ? "integer PCM"
                    : "float") + (codec == PCM ? " (8, 16, 24 and 32 are read)" : " (32 and 64 are read)"));
        }
        int bytesPerSample = bits / 8;
        if (blockAlign != channels * bytesPerSample) {
            throw new AudioFileException("malformed WAV: block align " + blockAlign + " does not match " + channels
                    + " channels of " + bits + "-bit samples");
        }
        long frames = dataSize / blockAlign;
        if (frames == 0) {
            throw new AudioFileException("no audio: the data chunk holds " + dataSize + " bytes, not one whole frame");
        }
        if (frames * channels > Integer.MAX_VALUE - 8) {
            throw new AudioFileException("audio too long: " + frames + " frames of " + channels + " channels");
        }
        int n = (int) frames;
        float[][] out = new float[channels][n];
        int p = data;
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < channels; c++) {
                float v = switch (codec == PCM ? bits : -bits) {
                    case 8 -> ((b.get(p) & 0xFF) - 128) / 128f;
                    case 16 -> b.getShort(p) / 32768f;
                    case 24 -> ((b.get(p) & 0xFF) | (b.get(p + 1) & 0xFF) << 8 | b.get(p + 2) << 16) / 8388608f;
                    case 32 -> (float) (b.getInt(p) / 2147483648.0);
                    case -32 -> b.getFloat(p);
                    default -> (float) b.getDouble(p); // -64
                };
                if (!Float.isFinite(v)) {
                    throw new AudioFileException("malformed WAV: sample " + i + " of channel " + c + " is " + v
                            + (codec == IEEE_FLOAT && bits == 64 && Double.isFinite(b.getDouble(p))
                                    ? " (a 64-bit value beyond float's range)" : ""));
                }
                out[c][i] = v;
                p += bytesPerSample;
            }
        }
        return new Audio(out, (int) rate, channelMask);
    }

    private static String codecName(int tag) {
        return switch (tag) {
            case 0x2 -> "Microsoft ADPCM";
            case 0x6 -> "A-law";
            case 0x7 -> "mu-law";
            case 0x11 -> "IMA ADPCM";
            case 0x31 -> "GSM 6.10";
            case 0x55 -> "MPEG layer 3";
            case 0xF1AC -> "FLAC";
            default -> "unknown";
        };
    }

    private static String fourCC(ByteBuffer b, int at) {
        char[] c = new char[4];
        for (int i = 0; i < 4; i++) {
            c[i] = (char) (b.get(at + i) & 0xFF);
        }
        return new String(c);
    }

    private static String printable(String s) {
        StringBuilder o = new StringBuilder();
        for (char c : s.toCharArray()) {
            o.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return o.toString();
    }
}
