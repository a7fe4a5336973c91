package org.euterpe.pipeline.audio;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes a file through a temporary sibling and a rename, so nobody ever sees a half-written
 * output; on any failure (disk full, an exception in the writer) the temporary file is removed,
 * and a shutdown hook removes those of a process stopped by SIGINT or SIGTERM mid-write.
 *
 * <p>Only a regular file, or nothing, is ever replaced: a symbolic link, a device, a FIFO, a
 * socket or a folder at the target is refused (so {@code sudo euterpe ... -o /dev/null} cannot
 * replace {@code /dev/null} with a WAV).
 */
public final class AtomicFiles {
    /** Temporary files being written now, removed by the shutdown hook if the JVM stops first. */
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::removePending, "euterpe-temp-cleanup"));
    }

    private AtomicFiles() {
    }

    /** The body that fills the stream. */
    @FunctionalInterface
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    /** A writer that fills the file at a path it is given (for writers that take a path, not a stream). */
    @FunctionalInterface
    public interface FileBody {
        void write(Path file) throws IOException;
    }

    /**
     * Why {@code target} cannot be written as an output, or null when it can: it does not exist
     * yet, or it is a regular file (not a link to one), in an existing folder.
     */
    public static String refusal(Path target) {
        Path abs = target.toAbsolutePath();
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(abs, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            attrs = null; // does not exist (or cannot be seen): the folder checks below decide
        }
        if (attrs != null && !attrs.isRegularFile()) {
            return target + " is " + kind(abs, attrs) + ", not a regular file; outputs must be regular files or"
                    + " not exist yet";
        }
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return "output folder " + dir + " does not exist";
        }
        if (!Files.isWritable(dir)) {
            return "output folder " + dir + " is not writable";
        }
        return null;
    }

    /** "a symbolic link", "a character device", ... */
    private static String kind(Path p, BasicFileAttributes attrs) {
        if (attrs.isSymbolicLink()) {
            return "a symbolic link";
        }
        if (attrs.isDirectory()) {
            return "a folder";
        }
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            switch (mode & 0170000) {
                case 0020000: return "a character device";
                case 0060000: return "a block device";
                case 0010000: return "a FIFO (named pipe)";
                case 0140000: return "a socket";
                default: break;
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // no unix view: say what we know
        }
        return "a special file";
    }

    /**
     * Temporary files are created private (0600); the result gets the permissions of the file it
     * replaces, or rw-r--r-- like a file created normally.
     */
    private static void readableLikeANewFile(Path tmp, Path target) throws IOException {
        if (!Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
            return;
        }
        java.util.Set<java.nio.file.attribute.PosixFilePermission> perms = Files.exists(target)
                ? Files.getPosixFilePermissions(target)
                : java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(tmp, perms);
    }

    /** Writes {@code target} atomically. */
    public static void write(Path target, Body body) throws IOException {
        Staged s = stage(target, body);
        try {
            s.commit();
        } finally {
            s.discard();
        }
    }

    /**
     * Writes {@code body} to a temporary sibling of {@code target}; {@link Staged#commit()} puts it
     * in place, {@link Staged#discard()} (or the shutdown hook) removes it. Several outputs staged
     * first and committed together leave, if interrupted, nothing or the ones whose commit returned.
     */
    public static Staged stage(Path target, Body body) throws IOException {
        return stageFile(target, tmp -> {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                body.write(out);
            }
        });
    }

    /** As {@link #stage(Path, Body)}, for a writer that takes the temporary file's path. */
    public static Staged stageFile(Path target, FileBody body) throws IOException {
        Path abs = target.toAbsolutePath();
        String refusal = refusal(abs);
        if (refusal != null) {
            throw new IOException("cannot write " + target + ": " + refusal);
        }
        Path tmp;
        try {
            tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName() + ".", ".part");
        } catch (IOException e) {
            throw new IOException("cannot write in " + abs.getParent() + ": " + e.getMessage(), e);
        }
        PENDING.add(tmp);
        Staged s = new Staged(abs, tmp);
        boolean ok = false;
        try {
            body.write(tmp);
            readableLikeANewFile(tmp, abs);
            ok = true;
            return s;
        } finally {
            if (!ok) {
                s.discard();
            }
        }
    }

    /** A file written to its temporary sibling, not yet in place. */
    public static final class Staged {
        /** The temporary file (to check it before {@link #commit()}). */
        public Path file() {
            return tmp;
        }

        private final Path target;
        private final Path tmp;
        private boolean committed;

        private Staged(Path target, Path tmp) {
            this.target = target;
            this.tmp = tmp;
        }

        public Path target() {
            return target;
        }

        /** Renames the temporary file over the target (checked again: it may have changed since). */
        public void commit() throws IOException {
            if (committed) {
                return;
            }
            String refusal = refusal(target);
            if (refusal != null) {
                throw new IOException("cannot write " + target + ": " + refusal);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            committed = true;
            PENDING.remove(tmp);
        }

        /** Removes the temporary file unless it was committed; safe to call twice. */
        public void discard() {
            if (!committed) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the shutdown hook tries again
                    return;
                }
                PENDING.remove(tmp);
            }
        }
    }

    /** Stages every output, then commits them in order; on failure nothing staged is left behind. */
    public static List<Path> writeAll(List<Path> targets, List<Body> bodies, java.util.function.Consumer<Path> done)
            throws IOException {
        List<Staged> staged = new ArrayList<>();
        try {
            for (int i = 0; i < targets.size(); i++) {
                staged.add(stage(targets.get(i), bodies.get(i)));
            }
            List<Path> out = new ArrayList<>();
            for (Staged s : staged) {
                s.commit();
                out.add(s.target());
                done.accept(s.target());
            }
            return out;
        } finally {
            staged.forEach(Staged::discard);
        }
    }

    private static void removePending() {
        for (Path p : PENDING) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // nothing more can be done while the JVM exits
            }
        }
    }
}
