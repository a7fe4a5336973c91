package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled model's fingerprint, which names its unpacked copy: read from a jar's directory (sizes
 * and CRCs, nothing inflated) it must equal the one computed from the same files in a folder, and a
 * change of one byte deep inside a weight file (where the old size-and-first-4-KiB fingerprint did
 * not look) must change it, so a stale unpacked copy is never reused.
 */
class BundledModelTest {
    private static final String ROOT = "/org/euterpe/bundled/tiny-audioldm/";

    private static Map<String, byte[]> bundledFiles() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String f : BundledModel.FILES) {
            try (InputStream in = BundledModel.class.getResourceAsStream(ROOT + f)) {
                assertNotNull(in, "bundled " + f);
                files.put(f, in.readAllBytes());
            }
        }
        return files;
    }

    private static Path jar(Path file, Map<String, byte[]> files) throws IOException {
        try (OutputStream o = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(o)) {
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                jar.putNextEntry(new ZipEntry("m/" + e.getKey()));
                jar.write(e.getValue());
                jar.closeEntry();
            }
        }
        return file;
    }

    private static URL inJar(Path jar, String f) {
        try {
            return java.net.URI.create("jar:" + jar.toUri() + "!/m/" + f).toURL();
        } catch (MalformedURLException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void jarDirectoryAgreesWithFileContentsAndSeesDeepChanges(@TempDir Path dir) throws IOException {
        Map<String, byte[]> files = bundledFiles();
        String fromClasspath = BundledModel.fingerprint();
        Path same = jar(dir.resolve("same.jar"), files);
        assertEquals(fromClasspath, BundledModel.fingerprint(f -> inJar(same, f)),
                "sizes and CRCs from the jar's directory vs the files read");

        byte[] unet = files.get("unet/diffusion_pytorch_model.safetensors").clone();
        unet[unet.length - 3] ^= 1; // past the first 4 KiB, same size
        Map<String, byte[]> changed = new LinkedHashMap<>(files);
        changed.put("unet/diffusion_pytorch_model.safetensors", unet);
        Path other = jar(dir.resolve("changed.jar"), changed);
        assertNotEquals(fromClasspath, BundledModel.fingerprint(f -> inJar(other, f)));
    }

    @Test
    void missingFileIsNamed(@TempDir Path dir) throws IOException {
        Map<String, byte[]> files = bundledFiles();
        files.remove("vocoder/config.json");
        Path jar = jar(dir.resolve("partial.jar"), files);
        IOException e = assertThrows(IOException.class,
                () -> BundledModel.fingerprint(f -> files.containsKey(f) ? inJar(jar, f) : null));
        assertEquals("the bundled model is missing vocoder/config.json in this build", e.getMessage());
    }
}
