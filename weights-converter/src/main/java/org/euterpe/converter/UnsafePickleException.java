package org.euterpe.converter;

import java.nio.file.Path;

/**
 * A pickle that asks for something outside the state-dict allow-list (a global, an opcode, a call).
 * Thrown before anything is built from the offending instruction.
 */
public final class UnsafePickleException extends CheckpointException {
    private final long offset;
    private final String refused;

    /**
     * @param refused the global ({@code "os.system"}) or opcode ({@code "STACK_GLOBAL"}) refused
     * @param offset  byte offset of the opcode in the pickle
     */
    public UnsafePickleException(Path file, String refused, long offset, String why) {
        super(file, "refused " + refused + " at pickle offset " + offset + ": " + why);
        this.offset = offset;
        this.refused = refused;
    }

    /** Byte offset of the refused opcode in the pickle stream. */
    public long offset() {
        return offset;
    }

    /** The refused global or opcode name. */
    public String refused() {
        return refused;
    }
}
