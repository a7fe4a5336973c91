package org.euterpe.bench.runtimes;

import java.nio.file.Path;
import java.util.List;

/** One runtime (the engine, ONNX Runtime, DJL on libtorch) as bench/compare-runtimes.sh drives it. */
public interface StageRuntime extends AutoCloseable {
    /** A loaded stage graph: runs on the stage's inputs (in the manifest's order) and returns its output. */
    interface Stage extends AutoCloseable {
        float[] run(List<Npy> inputs) throws Exception;

        @Override
        default void close() throws Exception {
        }
    }

    /**
     * Loads {@code stage} (text_encoder, unet, vae_decode, vocoder) from the export folder {@code work}
     * (manifest.json, the graphs, model/ for the engine).
     */
    Stage load(Path work, String stage) throws Exception;

    /** The runtime and its version, for the report. */
    String version();

    @Override
    default void close() throws Exception {
    }
}
