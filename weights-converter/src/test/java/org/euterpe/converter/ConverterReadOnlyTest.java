package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The converter treats the model folder as read-only: every file's path, size, mtime and SHA-256 are the
 * same before and after a convert, a successful one or a failed one. A failed convert leaves no output
 * file and no temporary file beside where the output would have gone.
 *
 * <p>The checks run on a copy of the shared model (attributes kept), so a converter that did write into
 * its input could not damage the shared data.
 */
class ConverterReadOnlyTest {
    @TempDir
    Path tmp;

    /** What a folder holds, file by file: relative path to "size mtime sha256". */
    private static Map<String, String> snapshot(Path folder) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path f : files.sorted().toList()) {
                String key = folder.relativize(f).toString();
                if (Files.isDirectory(f)) {
                    out.put(key + "/", "dir " + Files.getLastModifiedTime(f).toMillis());
                } else {
                    out.put(key, Files.size(f) + " " + Files.getLastModifiedTime(f).toMillis() + " " + Sha256.of(f));
                }
            }
        }
        return out;
    }

    private Path copyOf(String sharedCase) throws IOException {
        Path src = TestData.sharedOrSkip("conformance/" + sharedCase);
        Path dst = tmp.resolve("model");
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.sorted().toList()) {
                Path t = dst.resolve(src.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return dst;
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-audioldm-bin/fp32", "tiny-audioldm-bin/fp16", "tiny-audioldm"})
    void aConvertChangesNothingInTheModelFolder(String sharedCase) throws Exception {
        Path model = copyOf(sharedCase);
        Map<String, String> before = snapshot(model);
        Path out = Files.createDirectories(tmp.resolve("out")).resolve("model.safetensors");
        // I8 reads every tensor and writes scales too: the most a convert does.
        Converter.convert(model, out, DType.I8);
        assertTrue(Files.size(out) > 0);
        assertEquals(before, snapshot(model));
        assertEquals(List.of("model.safetensors"), listing(out.getParent()), "only the output, no temporary file");
    }

    @Test
    void aCorruptStorageFailsAndLeavesNoOutput() throws Exception {
        Path model = copyOf("tiny-audioldm-bin/fp32");
        Path vocoder = model.resolve("vocoder/pytorch_model.bin");
        // One flipped byte inside the largest storage: the zip's structure is intact, only its CRC-32 fails,
        // which is found when the tensor's bytes are read, i.e. while the converter is already writing.
        ZipArchive.Entry largest;
        try (ZipArchive zip = ZipArchive.open(vocoder)) {
            largest = zip.entries().values().stream().filter(e -> e.name().contains("/data/"))
                    .max((a, b) -> Long.compare(a.size(), b.size())).orElseThrow();
        }
        flipByte(vocoder, largest.dataOffset() + largest.size() / 2);
        Map<String, String> before = snapshot(model);
        Path outDir = Files.createDirectories(tmp.resolve("out"));
        Path out = outDir.resolve("model.safetensors");

        CheckpointException e = assertThrows(CheckpointException.class, () -> Converter.convert(model, out, DType.F16));
        assertTrue(e.getMessage().contains("CRC"), e.getMessage());
        assertFalse(Files.exists(out));
        assertEquals(List.of(), listing(outDir), "no partial or temporary file");
        assertEquals(before, snapshot(model));
    }

    @Test
    void aTruncatedWeightFileFailsAndLeavesNoOutput() throws Exception {
        Path model = copyOf("tiny-audioldm");
        Path unet = model.resolve("unet/diffusion_pytorch_model.safetensors");
        try (FileChannel ch = FileChannel.open(unet, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
        Map<String, String> before = snapshot(model);
        Path outDir = Files.createDirectories(tmp.resolve("out"));
        Path out = outDir.resolve("model.safetensors");

        CheckpointException e = assertThrows(CheckpointException.class, () -> Converter.convert(model, out, DType.F32));
        assertTrue(e.getMessage().contains("diffusion_pytorch_model.safetensors"), e.getMessage());
        assertEquals(List.of(), listing(outDir), "no partial or temporary file");
        assertEquals(before, snapshot(model));
    }

    @Test
    void anUnwritableDestinationFailsAndLeavesNoOutput() throws Exception {
        Path model = copyOf("tiny-audioldm");
        Map<String, String> before = snapshot(model);
        // Root ignores permission bits, so "unwritable" is a destination that cannot be a file: an existing
        // folder (with content that must survive), a path under a regular file, and one inside the model.
        Path folder = Files.createDirectories(tmp.resolve("out/taken.safetensors"));
        Files.writeString(folder.resolve("keep.txt"), "keep");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(model, folder, DType.F32));
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
        assertEquals(List.of("taken.safetensors"), listing(tmp.resolve("out")), "no temporary file beside it");
        assertEquals("keep", Files.readString(folder.resolve("keep.txt")));

        Path plainFile = Files.writeString(tmp.resolve("plain"), "x");
        assertThrows(IOException.class, () -> Converter.convert(model, plainFile.resolve("m.safetensors"), DType.F32));
        assertEquals("x", Files.readString(plainFile));

        assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(model, model.resolve("unet/model.safetensors"), DType.F32));
        assertEquals(before, snapshot(model));
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5A)).rewind();
            ch.write(b, offset);
        }
    }
}
