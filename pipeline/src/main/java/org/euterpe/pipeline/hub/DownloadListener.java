package org.euterpe.pipeline.hub;

/** Progress of {@link HubClient#pull}; called on the downloading thread. */
public interface DownloadListener {
    /** A file starts (or resumes at {@code resumedAt} bytes); {@code total} is -1 when unknown. */
    default void fileStarted(String path, long total, long resumedAt) {
    }

    /** {@code bytes} of the current file are on disk. */
    default void progress(String path, long bytes) {
    }

    /** The file is in the cache: downloaded and checked ({@code downloaded} false when already there). */
    default void fileDone(String path, long size, boolean downloaded) {
    }

    /** Something worth telling the user: a retry, a reuse, a hash note. */
    default void note(String message) {
    }

    DownloadListener NONE = new DownloadListener() {
    };
}
