package org.euterpe.pipeline.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import org.euterpe.pipeline.audio.AtomicFiles;

/**
 * The Hugging Face cache layout, shared with the Python tools:
 *
 * <pre>
 *   {cache}/models--ORG--NAME/
 *     blobs/{sha256 or git blob id}           file contents, named as the hub's ETag
 *     snapshots/{commit}/{path in repo}        relative symlinks into blobs/
 *     refs/{branch or tag}                     the commit the name pointed at when last pulled
 * </pre>
 *
 * Files the Python tools downloaded are therefore found here, and the reverse. A partial download
 * is {@code blobs/{name}.incomplete}, as huggingface_hub names it, and is resumed from its length.
 */
public final class HubCache {
    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path repoDir(RepoId id) {
        return root.resolve(id.cacheFolderName());
    }

    public Path blob(RepoId id, String name) {
        checkName(name);
        return repoDir(id).resolve("blobs").resolve(name);
    }

    public Path incomplete(RepoId id, String name) {
        return blob(id, name).resolveSibling(name + ".incomplete");
    }

    public Path snapshot(RepoId id, String commit) {
        checkName(commit);
        return repoDir(id).resolve("snapshots").resolve(commit);
    }

    /** Where {@code --convert} keeps the one-file model of a snapshot (beside snapshots/, not inside it). */
    public Path converted(RepoId id, String commit) {
        checkName(commit);
        return repoDir(id).resolve("euterpe").resolve(commit + ".safetensors");
    }

    private static void checkName(String name) {
        if (!name.matches("[A-Za-z0-9._-]+") || name.startsWith(".")) {
            throw new IllegalArgumentException("not a cache file name: \"" + name + "\"");
        }
    }

    /** The commit the revision names in the cache: the revision itself if it is a commit, else refs/{revision}. */
    public Optional<String> commitOf(RepoId id) throws IOException {
        if (id.pinned()) {
            return Optional.of(id.revision());
        }
        Path ref = repoDir(id).resolve("refs").resolve(id.revision());
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
        return commit.matches("[0-9a-f]{40}") ? Optional.of(commit) : Optional.empty();
    }

    /** Records that {@code revision} pointed at {@code commit}. */
    public void writeRef(RepoId id, String commit) throws IOException {
        if (id.pinned()) {
            return;
        }
        Path ref = repoDir(id).resolve("refs").resolve(id.revision());
        Files.createDirectories(ref.getParent());
        AtomicFiles.write(ref, out -> out.write(commit.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Makes {@code snapshots/{commit}/{path}} point at {@code blobs/{blobName}}: a relative symlink,
     * as huggingface_hub makes it (a copy where the file system has no symlinks). Atomic: the link
     * is made under a temporary name and renamed over any old one.
     */
    public Path link(RepoId id, String commit, String path, String blobName) throws IOException {
        Path file = snapshotFile(id, commit, path);
        Path blob = blob(id, blobName);
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + Long.toHexString(
                ThreadLocalRandom.current().nextLong()) + ".link");
        try {
            Files.createSymbolicLink(tmp, file.getParent().relativize(blob));
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return file;
    }

    /** {@code snapshots/{commit}/{path}}, refusing paths that would leave the snapshot. */
    public Path snapshotFile(RepoId id, String commit, String path) {
        Path snap = snapshot(id, commit);
        Path file = snap.resolve(path).normalize();
        if (path.isEmpty() || path.startsWith("/") || path.contains("\\") || !file.startsWith(snap)
                || file.equals(snap)) {
            throw new IllegalArgumentException("the repository lists a file path that leaves its folder: \"" + path
                    + "\"");
        }
        return file;
    }

    /**
     * What a snapshot lacks for the engine to load it, as paths relative to it (empty: complete):
     * {@code model_index.json}, each component's folder, and a weights file for each component that has weights.
     */
    public static List<String> missing(Path snapshot) throws IOException {
        List<String> out = new ArrayList<>();
        Path index = snapshot.resolve("model_index.json");
        if (!Files.isRegularFile(index)) {
            out.add("model_index.json");
            return out;
        }
        List<String> components;
        try {
            components = FileSelection.components(Files.readString(index));
        } catch (IllegalArgumentException e) {
            out.add("model_index.json (unreadable: " + e.getMessage() + ")");
            return out;
        }
        for (String c : components) {
            Path dir = snapshot.resolve(c);
            if (!Files.isDirectory(dir)) {
                out.add(c + "/");
                continue;
            }
            boolean weightless = c.contains("scheduler") || c.contains("tokenizer") || c.contains("feature_extractor")
                    || c.contains("processor");
            if (!weightless && FileSelection.WEIGHT_FILES.stream().noneMatch(w -> Files.isRegularFile(dir.resolve(w)))) {
                out.add(c + "/" + FileSelection.WEIGHT_FILES.getFirst() + " (or another weights file)");
            }
            boolean config = Files.isRegularFile(dir.resolve("config.json"))
                    || Files.isRegularFile(dir.resolve("scheduler_config.json"))
                    || Files.isRegularFile(dir.resolve("tokenizer_config.json"))
                    || Files.isRegularFile(dir.resolve("vocab.json"));
            if (!config) {
                out.add(c + "/config.json");
            }
        }
        return out;
    }
}
