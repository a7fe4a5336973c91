package org.euterpe.pipeline.hub;

import java.util.regex.Pattern;

/**
 * A Hugging Face model repository and revision, written {@code ORG/NAME[@REVISION]} (revision
 * {@code main} when omitted): a branch, a tag or a 40-hex commit.
 */
public record RepoId(String repo, String revision) {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,199}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public RepoId {
        String[] p = repo.split("/", -1);
        if (p.length != 2 || !valid(p[0]) || !valid(p[1])) {
            throw new IllegalArgumentException("\"" + repo + "\" is not a repository name of the form ORG/NAME");
        }
        if (!REVISION.matcher(revision).matches() || revision.contains("..") || revision.endsWith("/")) {
            throw new IllegalArgumentException("\"" + revision + "\" is not a revision (a branch, tag or commit)");
        }
    }

    private static boolean valid(String part) {
        return PART.matcher(part).matches() && !part.contains("..") && !part.endsWith(".");
    }

    /** Parses {@code ORG/NAME[@REVISION]}. */
    public static RepoId parse(String spec) {
        int at = spec.indexOf('@');
        return at < 0 ? new RepoId(spec, "main") : new RepoId(spec.substring(0, at), spec.substring(at + 1));
    }

    /** Whether {@code spec} has the shape of a repository id (it may still name a local path). */
    public static boolean looksLike(String spec) {
        try {
            parse(spec);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether the revision is a full commit hash (then no ref needs resolving). */
    public boolean pinned() {
        return COMMIT.matcher(revision).matches();
    }

    /** {@code models--ORG--NAME}: the repository's folder in the cache, as huggingface_hub names it. */
    public String cacheFolderName() {
        return "models--" + repo.replace("/", "--");
    }

    @Override
    public String toString() {
        return revision.equals("main") ? repo : repo + "@" + revision;
    }
}
