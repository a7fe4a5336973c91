package org.euterpe.pipeline.hub;

import java.io.IOException;

/** A download or cache problem, with a message that says what to do about it. */
public class HubException extends IOException {
    /** What went wrong, for callers that react differently (a CLI exit code, a retry). */
    public enum Kind {
        /** 401/403: a gated or private repository and no (or a refused) token. */
        UNAUTHORIZED,
        /** 404: no such repository, revision or file. */
        NOT_FOUND,
        /** The network failed (after the retries). */
        NETWORK,
        /** A file's size or hash is not what the hub reported. */
        CORRUPT,
        /** Offline, and the cache does not hold what is needed. */
        NOT_CACHED,
        /** The repository is not something this engine can run. */
        UNSUPPORTED,
        /** Another server answer. */
        HTTP
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
