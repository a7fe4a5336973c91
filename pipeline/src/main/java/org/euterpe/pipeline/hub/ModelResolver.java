package org.euterpe.pipeline.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

import org.euterpe.converter.Converter;
import org.euterpe.converter.Precision;

/**
 * What a {@code --model} argument names: an existing path (a converted file or a diffusers folder)
 * as it is; otherwise a hub repository {@code ORG/NAME[@REVISION]}, taken from the cache, or pulled
 * into it first when it is not there. With {@code convert}, the snapshot is converted once into a
 * one-file model kept in the cache ({@link HubCache#converted}), which later loads use.
 */
public final class ModelResolver {
    private ModelResolver() {
    }

    /**
     * @param log receives one line per thing worth saying (a pull, a conversion)
     * @throws IllegalArgumentException when {@code spec} is neither an existing path nor a repository id
     */
    public static Path resolve(String spec, boolean convert, HubSettings settings, DownloadListener listener,
            Consumer<String> log) throws IOException {
        Path asPath = null;
        try {
            asPath = Path.of(spec);
        } catch (java.nio.file.InvalidPathException e) {
            // not a path; maybe a repository id
        }
        if (asPath != null && Files.exists(asPath)) {
            return asPath;
        }
        if (!RepoId.looksLike(spec)) {
            throw new IllegalArgumentException("model not found: " + spec + " is neither a file or folder nor a hub "
                    + "repository id (ORG/NAME[@REVISION])");
        }
        RepoId id = RepoId.parse(spec);
        HubClient client = new HubClient(settings, listener);
        Optional<Path> cached = client.cached(id);
        Path snapshot;
        if (cached.isPresent()) {
            snapshot = cached.get();
        } else {
            log.accept(id + " is not in the cache " + settings.cache() + (settings.offline() ? ""
                    : "; downloading it from " + settings.endpoint()));
            try {
                snapshot = client.pull(id);
            } catch (HubException e) {
                if (e.kind() == HubException.Kind.NOT_FOUND) {
                    throw new HubException(e.kind(), e.getMessage() + "; nor is there a file or folder " + spec
                            + " here", e);
                }
                throw e;
            }
        }
        Path converted = snapshot.getParent().getParent().resolve("euterpe")
                .resolve(snapshot.getFileName() + ".safetensors");
        if (Files.isRegularFile(converted)) {
            return converted;
        }
        if (!convert) {
            return snapshot;
        }
        Files.createDirectories(converted.getParent());
        log.accept("converting " + snapshot + " into " + converted + " (once; later loads map it directly)");
        Converter.convert(snapshot, converted, Precision.AS_STORED);
        return converted;
    }
}
