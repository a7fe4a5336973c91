package org.euterpe.bench.runtimes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One array of a NumPy {@code .npy} file (version 1/2, little-endian {@code <f4} or {@code <i8}, C order):
 * the stage inputs and outputs that bench/runtimes/runtimes.py and the Java runners exchange.
 *
 * @param floats the values of a {@code <f4} array, else null
 * @param longs  the values of a {@code <i8} array, else null
 */
public record Npy(String name, long[] shape, float[] floats, long[] longs) {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    public static Npy read(String name, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 10 || b.get() != (byte) 0x93 || b.get() != 'N' || b.get() != 'U' || b.get() != 'M'
                || b.get() != 'P' || b.get() != 'Y') {
            throw new IOException(file + " is not a .npy file");
        }
        int major = b.get();
        b.get();
        int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
        byte[] h = new byte[headerLen];
        b.get(h);
        String header = new String(h, java.nio.charset.StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher o = ORDER.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !o.find() || !s.find()) {
            throw new IOException(file + ": unreadable .npy header " + header.strip());
        }
        if (o.group(1).equals("True")) {
            throw new IOException(file + ": Fortran-order arrays are not read");
        }
        long[] shape = Arrays.stream(s.group(1).split(",")).map(String::strip).filter(x -> !x.isEmpty())
                .mapToLong(Long::parseLong).toArray();
        long n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        int size = switch (d.group(1)) {
            case "<f4" -> 4;
            case "<i8" -> 8;
            default -> throw new IOException(file + ": dtype " + d.group(1) + " is not read (only <f4, <i8)");
        };
        if (Arrays.stream(shape).anyMatch(x -> x < 0) || b.remaining() != n * size) {
            throw new IOException(file + ": " + b.remaining() + " bytes of data for shape " + Arrays.toString(shape));
        }
        switch (d.group(1)) {
            case "<f4" -> {
                float[] f = new float[Math.toIntExact(n)];
                b.asFloatBuffer().get(f);
                return new Npy(name, shape, f, null);
            }
            case "<i8" -> {
                long[] l = new long[Math.toIntExact(n)];
                b.asLongBuffer().get(l);
                return new Npy(name, shape, null, l);
            }
            default -> throw new AssertionError(d.group(1));
        }
    }

    /** Writes {@code values} as a little-endian float32 {@code .npy} of {@code shape}. */
    public static void writeFloats(Path file, long[] shape, float[] values) throws IOException {
        StringBuilder sh = new StringBuilder();
        for (long s : shape) {
            sh.append(s).append(',');
        }
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + sh + "), }";
        int total = 10 + header.length() + 1;
        header = header + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        b.asFloatBuffer().put(values);
        Files.write(file, b.array());
    }

    public int[] intShape() {
        return Arrays.stream(shape).mapToInt(Math::toIntExact).toArray();
    }

    /** A {@code [rows, cols]} int64 array as rows. */
    public long[][] longRows() {
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        long[][] r = new long[rows][];
        for (int i = 0; i < rows; i++) {
            r[i] = Arrays.copyOfRange(longs, i * cols, (i + 1) * cols);
        }
        return r;
    }
}
