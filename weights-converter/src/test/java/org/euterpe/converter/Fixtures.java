package org.euterpe.converter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Test inputs: in-repo resources, and hand-built pickles and torch-layout ZIPs. */
final class Fixtures {
    private Fixtures() {
    }

    /** A file under src/test/resources/org/euterpe/converter/. */
    static Path resource(String name) {
        URL url = Fixtures.class.getResource(name);
        if (url == null) {
            throw new IllegalStateException("test resource " + name + " is missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Emits pickle opcodes by the pickle specification (pickletools' opcode table). */
    static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int opcode) {
            out.write(opcode);
            return this;
        }

        Pickle proto(int p) {
            return op(0x80).op(p);
        }

        Pickle global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            out.writeBytes(le(b.length, 4));
            out.writeBytes(b);
            return this;
        }

        /** The smallest of BININT1 / BININT2 / BININT / LONG1 that holds {@code v}, as pickle chooses. */
        Pickle integer(long v) {
            if (v >= 0 && v < 256) {
                return op('K').op((int) v);
            }
            if (v >= 0 && v < 65536) {
                op('M');
                out.writeBytes(le(v, 2));
                return this;
            }
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                op('J');
                out.writeBytes(le(v, 4));
                return this;
            }
            op(0x8a).op(8);
            out.writeBytes(le(v, 8));
            return this;
        }

        Pickle ints(long... vs) {
            op('(');
            for (long v : vs) {
                integer(v);
            }
            return op('t');
        }

        Pickle put(int memo) {
            return op('q').op(memo);
        }

        Pickle get(int memo) {
            return op('h').op(memo);
        }

        /** A tensor value: {@code _rebuild_tensor_v2(('storage', cls, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
        Pickle tensor(String storageClass, String key, long numel, long offset, long[] size, long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2");
            op('(');
            op('(').str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).op('t');
            op('Q');
            integer(offset).ints(size).ints(stride).op(0x89);
            global("collections", "OrderedDict").op(')').op('R');
            return op('t').op('R');
        }

        /** Starts {@code OrderedDict()} with a MARK for SETITEMS. */
        Pickle beginStateDict() {
            return proto(2).global("collections", "OrderedDict").op(')').op('R').op('(');
        }

        Pickle endStateDict() {
            return op('u').op('.');
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private static byte[] le(long v, int n) {
            return Arrays.copyOf(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array(), n);
        }
    }

    /** A torch.save-layout ZIP of stored entries, written with java.util.zip (an independent writer). */
    static byte[] torchZip(String root, byte[] pickle, Map<String, byte[]> storages) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put(root + "/data.pkl", pickle);
        storages.forEach((k, v) -> entries.put(root + "/data/" + k, v));
        entries.put(root + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        return zip(entries, ZipEntry.STORED);
    }

    static byte[] zip(Map<String, byte[]> entries, int method) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                ze.setMethod(method);
                if (method == ZipEntry.STORED) {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setCrc(crc.getValue());
                    ze.setSize(e.getValue().length);
                    ze.setCompressedSize(e.getValue().length);
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Little-endian float32 bytes. */
    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
