package org.euterpe.pipeline.audio;

/**
 * Decodes FLAC files (RFC 9639) into float samples, one array per channel, scaled by 2^(bits-1) like
 * {@link WavReader}'s integer PCM.
 *
 * <p>Reads the STREAMINFO block, skips the other metadata blocks, and decodes every frame: constant,
 * verbatim, fixed (orders 0-4) and LPC (orders 1-32) subframes with wasted bits, Rice-coded residuals
 * (4- and 5-bit parameters, escaped partitions), and the independent, left/side, right/side and mid/side
 * channel layouts; 4 to 32 bits per sample, up to 8 channels. Each frame header's CRC-8 and each frame's
 * CRC-16 are checked, and every decoded sample must lie in the stream's bit range. The MD5 signature is not. Refused with an {@link AudioFileException} naming the
 * problem: no "fLaC" marker, no STREAMINFO, a bad or truncated frame, a CRC mismatch, a frame whose
 * channel count, sample size or rate disagrees with STREAMINFO, and no samples. Channels are mapped to
 * other counts by {@link WavReader.Audio#toChannels}, with FLAC's channel order (that of WAVE's mask).
 */
public final class FlacReader {
    /** Frames beyond this many samples per channel are refused (the JVM's array limit, with room). */
    private static final long MAX_FRAMES = Integer.MAX_VALUE - 16;

    private FlacReader() {
    }

    /** Whether {@code bytes} start with the FLAC marker. */
    public static boolean isFlac(byte[] bytes) {
        return bytes.length >= 4 && bytes[0] == 'f' && bytes[1] == 'L' && bytes[2] == 'a' && bytes[3] == 'C';
    }

    /** Decodes a FLAC file's bytes; {@link AudioFileException} for anything this reader refuses. */
    public static WavReader.Audio parse(byte[] bytes) throws AudioFileException {
        if (!isFlac(bytes)) {
            throw new AudioFileException("not a FLAC file: it does not start with fLaC");
        }
        try {
            return new Decoder(bytes).decode();
        } catch (IndexOutOfBoundsException e) {
            throw new AudioFileException("malformed FLAC: the file ends inside a frame or block");
        }
    }

    private static final class Decoder {
        private final byte[] b;
        private long bit; // read position in bits
        private int rate;
        private int channels;
        private int bps;
        private long totalSamples;

        Decoder(byte[] b) {
            this.b = b;
        }

        WavReader.Audio decode() throws AudioFileException {
            bit = 32;
            boolean last = false;
            boolean sawInfo = false;
            while (!last) {
                last = bits(1) == 1;
                int type = bits(7);
                int length = bits(24);
                long start = bit / 8;
                if (start + length > b.length) {
                    throw new AudioFileException("malformed FLAC: metadata block of " + length
                            + " bytes runs past the end of the file");
                }
                if (type == 0) {
                    if (sawInfo || length < 34) {
                        throw new AudioFileException("malformed FLAC: " + (sawInfo ? "two STREAMINFO blocks"
                                : "STREAMINFO of " + length + " bytes, 34 needed"));
                    }
                    sawInfo = true;
                    bits(16); // min block size
                    bits(16); // max block size
                    bits(24); // min frame size
                    bits(24); // max frame size
                    rate = bits(20);
                    channels = bits(3) + 1;
                    bps = bits(5) + 1;
                    totalSamples = ((long) bits(4) << 32) | (bits(32) & 0xFFFFFFFFL);
                } else if (!sawInfo) {
                    throw new AudioFileException("malformed FLAC: the first metadata block is not STREAMINFO");
                } else if (type == 127) {
                    throw new AudioFileException("malformed FLAC: metadata block type 127 is invalid");
                }
                bit = (start + length) * 8;
            }
            if (!sawInfo) {
                throw new AudioFileException("malformed FLAC: no STREAMINFO block");
            }
            if (rate == 0) {
                throw new AudioFileException("malformed FLAC: sample rate 0");
            }
            if (bps < 4) {
                throw new AudioFileException("unsupported FLAC: " + bps + " bits per sample (4 to 32 are read)");
            }
            int capacity = (int) Math.min(totalSamples > 0 ? totalSamples : 1 << 16, MAX_FRAMES);
            // A lying total cannot make us allocate more than the file could hold (1 bit per sample at best).
            capacity = (int) Math.min(capacity, (long) b.length * 8 / channels + 16);
            float[][] out = new float[channels][Math.max(capacity, 16)];
            int n = 0;
            long[][] block = new long[channels][];
            while (bit / 8 < b.length) {
                if (b.length - bit / 8 < 2 || (b[(int) (bit / 8)] & 0xFF) != 0xFF) {
                    if (totalSamples > 0 && n < totalSamples) {
                        throw new AudioFileException("malformed FLAC: no frame at byte " + bit / 8 + " after " + n
                                + " of " + totalSamples + " samples");
                    }
                    break; // trailing bytes that are not a frame (an ID3v1 tag some tools append)
                }
                int size = frame(block);
                if ((long) n + size > MAX_FRAMES) {
                    throw new AudioFileException("FLAC audio too long: more than " + MAX_FRAMES + " samples");
                }
                if (n + size > out[0].length) {
                    int grown = (int) Math.min(MAX_FRAMES, Math.max((long) out[0].length * 2, (long) n + size));
                    for (int c = 0; c < channels; c++) {
                        out[c] = java.util.Arrays.copyOf(out[c], grown);
                    }
                }
                double scale = Math.scalb(1.0, -(bps - 1));
                for (int c = 0; c < channels; c++) {
                    for (int i = 0; i < size; i++) {
                        out[c][n + i] = (float) (block[c][i] * scale);
                    }
                }
                n += size;
            }
            if (n == 0) {
                throw new AudioFileException("no audio: the FLAC file holds no samples");
            }
            if (totalSamples > 0 && n != totalSamples) {
                throw new AudioFileException("malformed FLAC: " + n + " samples decoded, STREAMINFO says "
                        + totalSamples + (n < totalSamples ? " (the file is cut short)" : ""));
            }
            for (int c = 0; c < channels; c++) {
                out[c] = java.util.Arrays.copyOf(out[c], n);
            }
            return new WavReader.Audio(out, rate, 0);
        }

        /** Decodes one frame into {@code block}; returns its block size. */
        private int frame(long[][] block) throws AudioFileException {
            long frameStart = bit / 8;
            int sync = bits(14);
            if (sync != 0x3FFE) {
                throw new AudioFileException("malformed FLAC: no frame sync code at byte " + frameStart);
            }
            bits(1); // reserved
            bits(1); // blocking strategy
            int sizeCode = bits(4);
            int rateCode = bits(4);
            int layout = bits(4);
            int sizeBits = bits(3);
            bits(1); // reserved
            utf8Number();
            int size = switch (sizeCode) {
                case 0 -> throw new AudioFileException("malformed FLAC: reserved block size code");
                case 1 -> 192;
                case 2, 3, 4, 5 -> 576 << (sizeCode - 2);
                case 6 -> bits(8) + 1;
                case 7 -> bits(16) + 1;
                default -> 256 << (sizeCode - 8);
            };
            switch (rateCode) {
                case 12 -> bits(8);
                case 13, 14 -> bits(16);
                case 15 -> throw new AudioFileException("malformed FLAC: invalid sample rate code");
                default -> {
                }
            }
            int headerEnd = (int) (bit / 8);
            int crc8 = bits(8);
            if (crc8 != crc8(b, (int) frameStart, headerEnd)) {
                throw new AudioFileException("malformed FLAC: frame header CRC mismatch at byte " + frameStart);
            }
            int frameBps = switch (sizeBits) {
                case 0 -> bps;
                case 1 -> 8;
                case 2 -> 12;
                case 4 -> 16;
                case 5 -> 20;
                case 6 -> 24;
                case 7 -> 32;
                default -> throw new AudioFileException("malformed FLAC: reserved sample size code");
            };
            if (frameBps != bps) {
                throw new AudioFileException("malformed FLAC: a frame of " + frameBps + "-bit samples in a " + bps
                        + "-bit stream");
            }
            int frameChannels = layout < 8 ? layout + 1 : layout <= 10 ? 2 : -1;
            if (frameChannels != channels) {
                throw new AudioFileException("malformed FLAC: a frame with channel layout " + layout + " in a "
                        + channels + "-channel stream");
            }
            for (int c = 0; c < channels; c++) {
                if (block[c] == null || block[c].length < size) {
                    block[c] = new long[size];
                }
                // the side channel carries one more bit
                int extra = (layout == 8 && c == 1) || (layout == 9 && c == 0) || (layout == 10 && c == 1) ? 1 : 0;
                subframe(block[c], size, bps + extra);
            }
            bit = (bit + 7) & ~7L; // zero padding to the byte
            int end = (int) (bit / 8);
            int crc16 = bits(16);
            if (crc16 != crc16(b, (int) frameStart, end)) {
                throw new AudioFileException("malformed FLAC: frame CRC mismatch at byte " + frameStart);
            }
            long[] l = block[0];
            long[] r = channels > 1 ? block[1] : null;
            for (int i = 0; i < size && layout >= 8; i++) {
                switch (layout) {
                    case 8 -> r[i] = l[i] - r[i]; // left, side
                    case 9 -> l[i] = l[i] + r[i]; // side, right
                    default -> { // mid, side
                        long side = r[i];
                        long mid = (l[i] << 1) | (side & 1);
                        l[i] = (mid + side) >> 1;
                        r[i] = (mid - side) >> 1;
                    }
                }
            }
            // A predictor with bad coefficients or residuals can leave the sample range: refuse, as libFLAC does.
            long max = (1L << (bps - 1)) - 1;
            long min = -(1L << (bps - 1));
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < size; i++) {
                    if (block[c][i] > max || block[c][i] < min) {
                        throw new AudioFileException("malformed FLAC: sample " + block[c][i] + " of channel " + c
                                + " in the frame at byte " + frameStart + " is outside the " + bps + "-bit range");
                    }
                }
            }
            return size;
        }

        private void subframe(long[] x, int size, int sampleBits) throws AudioFileException {
            if (bits(1) != 0) {
                throw new AudioFileException("malformed FLAC: subframe padding bit set");
            }
            int type = bits(6);
            int wasted = 0;
            if (bits(1) == 1) {
                wasted = 1;
                while (bits(1) == 0) {
                    wasted++;
                    if (wasted >= sampleBits) {
                        throw new AudioFileException("malformed FLAC: " + wasted + " wasted bits of " + sampleBits);
                    }
                }
            }
            int w = sampleBits - wasted;
            if (type == 0) {
                long v = signed(w);
                java.util.Arrays.fill(x, 0, size, v);
            } else if (type == 1) {
                for (int i = 0; i < size; i++) {
                    x[i] = signed(w);
                }
            } else if (type >= 8 && type <= 12) {
                int order = type - 8;
                warmUp(x, order, size, w);
                residual(x, order, size);
                for (int i = order; i < size; i++) {
                    x[i] += switch (order) {
                        case 0 -> 0;
                        case 1 -> x[i - 1];
                        case 2 -> 2 * x[i - 1] - x[i - 2];
                        case 3 -> 3 * x[i - 1] - 3 * x[i - 2] + x[i - 3];
                        default -> 4 * x[i - 1] - 6 * x[i - 2] + 4 * x[i - 3] - x[i - 4];
                    };
                }
            } else if (type >= 32) {
                int order = type - 31;
                warmUp(x, order, size, w);
                int precision = bits(4) + 1;
                if (precision == 16) {
                    throw new AudioFileException("malformed FLAC: invalid LPC coefficient precision");
                }
                int shift = (int) signed(5);
                if (shift < 0) {
                    throw new AudioFileException("malformed FLAC: negative LPC shift");
                }
                long[] coef = new long[order];
                for (int j = 0; j < order; j++) {
                    coef[j] = signed(precision);
                }
                residual(x, order, size);
                for (int i = order; i < size; i++) {
                    long s = 0;
                    for (int j = 0; j < order; j++) {
                        s += coef[j] * x[i - 1 - j];
                    }
                    x[i] += s >> shift;
                }
            } else {
                throw new AudioFileException("malformed FLAC: reserved subframe type " + type);
            }
            if (wasted > 0) {
                for (int i = 0; i < size; i++) {
                    x[i] <<= wasted;
                }
            }
        }

        private void warmUp(long[] x, int order, int size, int w) throws AudioFileException {
            if (order > size) {
                throw new AudioFileException("malformed FLAC: predictor order " + order + " above block size " + size);
            }
            for (int i = 0; i < order; i++) {
                x[i] = signed(w);
            }
        }

        /** Rice-coded residuals into x[order..size). */
        private void residual(long[] x, int order, int size) throws AudioFileException {
            int method = bits(2);
            if (method > 1) {
                throw new AudioFileException("malformed FLAC: reserved residual coding method");
            }
            int paramBits = method == 0 ? 4 : 5;
            int escape = (1 << paramBits) - 1;
            int partitionOrder = bits(4);
            int partitions = 1 << partitionOrder;
            if (size % partitions != 0 || size / partitions < order) {
                throw new AudioFileException("malformed FLAC: partition order " + partitionOrder + " does not fit a"
                        + " block of " + size + " with predictor order " + order);
            }
            int i = order;
            for (int p = 0; p < partitions; p++) {
                int count = size / partitions - (p == 0 ? order : 0);
                int k = bits(paramBits);
                if (k == escape) {
                    int raw = bits(5);
                    for (int j = 0; j < count; j++) {
                        x[i++] = raw == 0 ? 0 : signed(raw);
                    }
                } else {
                    for (int j = 0; j < count; j++) {
                        long q = 0;
                        while (bits(1) == 0) {
                            q++;
                            if (q > 1L << 32) {
                                throw new AudioFileException("malformed FLAC: runaway residual");
                            }
                        }
                        long u = (q << k) | (k == 0 ? 0 : bitsLong(k));
                        x[i++] = (u >>> 1) ^ -(u & 1);
                    }
                }
            }
        }

        private void utf8Number() throws AudioFileException {
            int first = bits(8);
            int more = first < 0x80 ? 0 : first >= 0xFE ? 6 : Integer.numberOfLeadingZeros(~first << 24) - 1;
            if (first >= 0x80 && first < 0xC0 || more < 0 || first == 0xFF) {
                throw new AudioFileException("malformed FLAC: bad frame number");
            }
            for (int i = 0; i < more; i++) {
                if ((bits(8) & 0xC0) != 0x80) {
                    throw new AudioFileException("malformed FLAC: bad frame number");
                }
            }
        }

        private long signed(int n) {
            long v = bitsLong(n);
            return n == 0 ? 0 : (v << (64 - n)) >> (64 - n);
        }

        private int bits(int n) {
            return (int) bitsLong(n);
        }

        /** The next {@code n} (0-32+) bits, big-endian; IndexOutOfBoundsException past the end. */
        private long bitsLong(int n) {
            long v = 0;
            for (int i = 0; i < n; i++) {
                long at = bit >>> 3;
                if (at >= b.length) {
                    throw new IndexOutOfBoundsException();
                }
                v = (v << 1) | ((b[(int) at] >> (7 - (bit & 7))) & 1);
                bit++;
            }
            return v;
        }
    }

    static int crc8(byte[] b, int from, int to) {
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF;
            }
        }
        return crc;
    }

    static int crc16(byte[] b, int from, int to) {
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc ^= (b[i] & 0xFF) << 8;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x8005) & 0xFFFF : (crc << 1) & 0xFFFF;
            }
        }
        return crc;
    }
}
