package org.euterpe.nn;

import org.euterpe.tensor.Tensor;

/**
 * Receives intermediate module outputs during a forward pass, by the reference module's name
 * ({@code conv_pre}, {@code encoder.layer.3}, {@code down_blocks.0}), for conformance tests and
 * debugging.
 *
 * <p>The tensor is only valid during the call (the model frees it with its scope): a recorder
 * copies what it needs, e.g. with {@link Tensor#toFloatArray()}.
 */
@FunctionalInterface
public interface Trace {
    /** Records nothing. */
    Trace NONE = (name, value) -> {
    };

    void record(String name, Tensor value);

    /** Whether anyone listens; lets a caller skip work done only for the trace. */
    default boolean enabled() {
        return this != NONE;
    }

    /** This trace with {@code prefix} put before every name (a submodule's trace, e.g. "decoder."). */
    default Trace prefixed(String prefix) {
        return enabled() ? (name, value) -> record(prefix + name, value) : NONE;
    }
}
