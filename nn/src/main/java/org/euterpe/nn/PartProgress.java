package org.euterpe.nn;

/** Told after each part (a tile, a chunk) of a model call that runs in parts. */
@FunctionalInterface
public interface PartProgress {
    /** Part {@code done} (1-based) of {@code total} is finished. */
    void partDone(int done, int total);

    PartProgress NONE = (done, total) -> {
    };
}
