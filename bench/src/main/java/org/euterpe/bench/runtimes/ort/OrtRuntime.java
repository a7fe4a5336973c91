package org.euterpe.bench.runtimes.ort;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.ExecutionMode;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import org.euterpe.bench.runtimes.Npy;
import org.euterpe.bench.runtimes.StageRuntime;

/**
 * ONNX Runtime's Java API (default CPU provider) on the exported ONNX graphs: intra-op threads as asked,
 * inter-op 1, sequential execution, every graph optimisation (as RUNTIME-ANCHORS.md measured it). Variant
 * {@code int8}: the graph {@code <stage>/model-int8.onnx} (dynamic int8 quantisation of the same graph).
 * With a profile prefix, ORT's per-node profile is written and its path printed to stderr.
 */
public final class OrtRuntime implements StageRuntime {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final int threads;
    private final String variant;
    private final String profile;

    public OrtRuntime(int threads, String variant, String profile) {
        this.threads = threads;
        this.variant = variant;
        this.profile = profile;
        if (variant != null && !variant.equals("int8")) {
            throw new IllegalArgumentException("ORT variants: int8");
        }
    }

    @Override
    public Stage load(Path work, String stage) throws Exception {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        so.setExecutionMode(ExecutionMode.SEQUENTIAL);
        so.setOptimizationLevel(OptLevel.ALL_OPT);
        if (profile != null) {
            so.enableProfiling(profile + "-" + stage);
        }
        Path graph = work.resolve(stage).resolve(variant == null ? "model.onnx" : "model-" + variant + ".onnx");
        OrtSession session = env.createSession(graph.toString(), so);
        List<String> names = List.copyOf(session.getInputNames());
        return new Stage() {
            @Override
            public float[] run(List<Npy> inputs) throws Exception {
                Map<String, OnnxTensor> feed = new LinkedHashMap<>();
                try {
                    for (Npy in : inputs) {
                        if (!names.contains(in.name())) {
                            throw new IllegalArgumentException(graph + " has no input " + in.name() + " (has " + names + ")");
                        }
                        feed.put(in.name(), in.floats() != null
                                ? OnnxTensor.createTensor(env, FloatBuffer.wrap(in.floats()), in.shape())
                                : OnnxTensor.createTensor(env, LongBuffer.wrap(in.longs()), in.shape()));
                    }
                    try (OrtSession.Result r = session.run(feed)) {
                        FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                        float[] out = new float[fb.remaining()];
                        fb.get(out);
                        return out;
                    }
                } finally {
                    feed.values().forEach(OnnxTensor::close);
                }
            }

            @Override
            public void close() throws Exception {
                if (profile != null) {
                    System.err.println("ort profile: " + session.endProfiling());
                }
                session.close();
                so.close();
            }
        };
    }

    @Override
    public String version() {
        return "onnxruntime " + env.getVersion() + " (Java API, CPU)";
    }
}
