package org.euterpe.nn.blocks;

import org.euterpe.tensor.Tensor;

/**
 * Receives intermediate module outputs by their diffusers module name ({@code down_blocks.0},
 * {@code mid_block}, ...), for comparing a forward pass against recorded reference traces.
 *
 * <p>The tensor is only valid during the call (it may be freed when the enclosing scope closes),
 * so an implementation copies what it keeps.
 */
@FunctionalInterface
public interface Trace {
    /** Records nothing. */
    Trace NONE = (name, value) -> { };

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
