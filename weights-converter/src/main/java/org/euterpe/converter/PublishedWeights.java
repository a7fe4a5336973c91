package org.euterpe.converter;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The sizes and SHA-256 of published model files (public metadata, from the
 * {@code published-weights.tsv} resource), so a converter can tell a user that a file is exactly
 * the one a repository ships.
 */
public final class PublishedWeights {
    /** One published file; {@code bytes} is -1 where the size was not recorded. */
    public record File(String repository, String path, long bytes, String sha256) {
        /** e.g. "the published cvssp/audioldm-s-full-v2 unet/diffusion_pytorch_model.bin". */
        public String describe() {
            return "the published " + repository + " " + path;
        }
    }

    private static final List<File> FILES = load();

    private PublishedWeights() {
    }

    /** Every known published file. */
    public static List<File> all() {
        return FILES;
    }

    /** The published file with this SHA-256 (lower- or upper-case hex), if any. */
    public static Optional<File> bySha256(String sha256) {
        return FILES.stream().filter(f -> f.sha256().equalsIgnoreCase(sha256)).findFirst();
    }

    private static List<File> load() {
        String resource = "published-weights.tsv";
        try (InputStream in = PublishedWeights.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " is missing from the jar");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            List<File> out = new ArrayList<>();
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t");
                if (f.length != 4) {
                    throw new IllegalStateException(resource + ": line \"" + line + "\" does not have 4 fields");
                }
                out.add(new File(f[0], f[1], f[2].equals("-") ? -1 : Long.parseLong(f[2]), f[3]));
            }
            return List.copyOf(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
