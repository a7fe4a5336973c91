package org.euterpe.tensor.json;

/** A JSON syntax error, with the 1-based line and column where it was found. */
public final class JsonException extends RuntimeException {
    private final int line;
    private final int column;

    public JsonException(String message, int line, int column) {
        super(message + " at line " + line + ", column " + column);
        this.line = line;
        this.column = column;
    }

    private JsonException(String fullMessage, int line, int column, Throwable cause) {
        super(fullMessage, cause);
        this.line = line;
        this.column = column;
    }

    /** The same error with {@code source} (a file name, say) in front of the message. */
    public JsonException in(String source) {
        return new JsonException(source + ": " + getMessage(), line, column, this);
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }
}
