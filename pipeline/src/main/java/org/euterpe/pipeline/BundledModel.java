package org.euterpe.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The model that ships inside the jar: the tiny AudioLDM of the conformance tests, with random
 * weights. It makes noise, not sound; it exists so the engine runs end to end with no
 * download. It is unpacked once into a cache folder, because weights are memory-mapped from files.
 */
public final class BundledModel {
    public static final String NAME = "tiny-audioldm (bundled, random weights)";
    /**
     * The length the CLI and server give the bundled model when none is asked for: its U-Net's
     * sample size alone would make 16 ms.
     */
    public static final double DEFAULT_SECONDS = 1.0;
    private static final String ROOT = "/org/euterpe/bundled/tiny-audioldm/";
    static final List<String> FILES = List.of(
            "model_index.json",
            "scheduler/scheduler_config.json",
            "text_encoder/config.json", "text_encoder/model.safetensors",
            "tokenizer/merges.txt", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
            "tokenizer/vocab.json",
            "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
            "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
            "vocoder/config.json", "vocoder/model.safetensors");

    private BundledModel() {
    }

    /**
     * Where the bundled model is unpacked: {@code $EUTERPE_CACHE}, else {@code $XDG_CACHE_HOME/euterpe},
     * else {@code ~/.cache/euterpe}.
     */
    public static Path cacheFolder() {
        String env = System.getenv("EUTERPE_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "euterpe");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "euterpe");
    }

    /** The unpacked folder, unpacking it first if needed (into {@link #cacheFolder()}). */
    public static synchronized Path folder() throws IOException {
        Path cache = cacheFolder();
        Path target = cache.resolve("bundled-tiny-audioldm-" + fingerprint());
        if (Files.isRegularFile(target.resolve("model_index.json"))) {
            return target;
        }
        try {
            Files.createDirectories(cache);
        } catch (IOException e) {
            throw new IOException("cannot unpack the bundled model into " + cache + " (" + describe(e)
                    + "); set EUTERPE_CACHE to a writable folder", e);
        }
        Path tmp = Files.createTempDirectory(cache, ".unpack-");
        try {
            for (String f : FILES) {
                try (InputStream in = BundledModel.class.getResourceAsStream(ROOT + f)) {
                    if (in == null) {
                        throw new IOException("the bundled model is missing " + f + " in this build");
                    }
                    Path out = tmp.resolve(f);
                    Files.createDirectories(out.getParent());
                    Files.copy(in, out);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
                if (!Files.isRegularFile(target.resolve("model_index.json"))) {
                    throw e;
                }
            }
        } finally {
            deleteTree(tmp);
        }
        return target;
    }

    /**
     * Changes when the bundled files change, so an old unpacked copy is never reused: each file's
     * size and CRC-32. From a jar these are read from its central directory (the launcher's case:
     * nothing is decompressed; reading the ~15 MB through the inflater took ~0.1-0.2 s of every
     * start); from a folder of classes (tests) the files are read and their CRC computed.
     */
    static String fingerprint() throws IOException {
        return fingerprint(f -> BundledModel.class.getResource(ROOT + f));
    }

    /** {@link #fingerprint()} of the files {@code resource} finds (by their path in the model folder). */
    static String fingerprint(java.util.function.Function<String, java.net.URL> resource) throws IOException {
        long h = 1125899906842597L;
        for (String f : FILES) {
            java.net.URL url = resource.apply(f);
            if (url == null) {
                throw new IOException("the bundled model is missing " + f + " in this build");
            }
            long size;
            long crc;
            java.net.URLConnection c = url.openConnection();
            java.util.jar.JarEntry entry = c instanceof java.net.JarURLConnection jar ? jar.getJarEntry() : null;
            if (entry != null && entry.getSize() >= 0 && entry.getCrc() >= 0) {
                size = entry.getSize();
                crc = entry.getCrc();
            } else {
                java.util.zip.CRC32 sum = new java.util.zip.CRC32();
                try (InputStream in = c.getInputStream()) {
                    byte[] buf = new byte[1 << 16];
                    size = 0;
                    for (int n; (n = in.read(buf)) > 0; size += n) {
                        sum.update(buf, 0, n);
                    }
                }
                crc = sum.getValue();
            }
            h = 31 * h + size;
            h = 31 * h + crc;
        }
        return Long.toHexString(h);
    }

    /** "permission denied on /nonexistent", not the bare path an AccessDeniedException's message is. */
    private static String describe(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            String why = f.getReason() != null ? f.getReason()
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getClass().getSimpleName();
            return why + ": " + f.getFile();
        }
        return e.getMessage();
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
