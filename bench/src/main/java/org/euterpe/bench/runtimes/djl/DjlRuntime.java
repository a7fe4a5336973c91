package org.euterpe.bench.runtimes.djl;

import java.nio.file.Path;
import java.util.List;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import org.euterpe.bench.runtimes.Npy;
import org.euterpe.bench.runtimes.StageRuntime;

/**
 * DJL's PyTorch engine (the bundled libtorch CPU build) on the exported TorchScript graphs. Offline,
 * with the thread counts set through DJL's system properties before the engine loads.
 */
public final class DjlRuntime implements StageRuntime {
    private final NDManager manager;

    public DjlRuntime(int threads, String variant, String profile) {
        if (variant != null) {
            throw new IllegalArgumentException("DJL has no variants here");
        }
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        manager = NDManager.newBaseManager("PyTorch");
    }

    @Override
    public Stage load(Path work, String stage) throws Exception {
        Model model = Model.newInstance(stage, "PyTorch");
        model.load(work.resolve(stage), "model");
        Predictor<NDList, NDList> predictor = model.newPredictor(new NoopTranslator());
        return new Stage() {
            @Override
            public float[] run(List<Npy> inputs) throws Exception {
                try (NDManager m = manager.newSubManager()) {
                    NDList in = new NDList();
                    for (Npy a : inputs) {
                        in.add(a.floats() != null ? m.create(a.floats(), new Shape(a.shape()))
                                : m.create(a.longs(), new Shape(a.shape())));
                    }
                    NDList out = predictor.predict(in);
                    float[] r = out.get(0).toFloatArray();
                    out.close();
                    return r;
                }
            }

            @Override
            public void close() {
                predictor.close();
                model.close();
            }
        };
    }

    @Override
    public String version() {
        Engine e = Engine.getEngine("PyTorch");
        return "DJL " + Engine.getDjlVersion() + ", libtorch " + e.getVersion() + " (CPU)";
    }

    @Override
    public void close() {
        manager.close();
    }
}
