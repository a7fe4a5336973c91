package org.euterpe.nn.blocks;

import org.euterpe.nn.Trace;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * A conformance case's {@code golden.json} + {@code golden.safetensors}, with the comparison the
 * goldens' FORMAT.md suggests: {@code e = max|x - ref| / max|ref|} per tensor. Every comparison is
 * printed; failures are collected and asserted together so one run reports every record.
 */
public final class GoldenRecords implements AutoCloseable {
    private final String label;
    private final SafetensorsFile file;
    private final JsonObject json;
    private final List<String> failures = new ArrayList<>();

    private GoldenRecords(String label, SafetensorsFile file, JsonObject json) {
        this.label = label;
        this.file = file;
        this.json = json;
    }

    /** @param label printed before every comparison, e.g. the case and backend */
    public static GoldenRecords open(Path caseDir, String label) throws IOException {
        String text = java.nio.file.Files.readString(caseDir.resolve("golden.json"));
        return new GoldenRecords(label,
                SafetensorsFile.open(caseDir.resolve("golden.safetensors")),
                new JsonObject(Json.parseLenient(text), caseDir.resolve("golden.json").toString()));
    }

    public JsonObject json() {
        return json;
    }

    public boolean has(String name) {
        return file.contains(name);
    }

    /** Names of recorded tensors starting with {@code prefix}. */
    public List<String> names(String prefix) {
        return file.names().stream().filter(n -> n.startsWith(prefix)).sorted().toList();
    }

    /** A recorded float tensor on {@code backend}. */
    public Tensor tensor(Backend backend, String name) {
        return backend.fromArray(file.floats(name), file.entry(name).shape());
    }

    /** A recorded 0-d timestep (int64 or float32) as the float32 torch embeds. */
    public float scalar(String name) {
        return file.floats(name)[0];
    }

    /** Compares {@code actual} with the record {@code name}; prints e and remembers a failure above {@code tol}. */
    public double check(String name, Tensor actual, double tol) {
        return check(name, actual.shape().dims(), actual.toFloatArray(), tol);
    }

    public double check(String name, int[] shape, float[] actual, double tol) {
        assertArrayEquals(file.entry(name).shape().dims(), shape, name + ": shape");
        float[] ref = file.floats(name);
        double e = relError(actual, ref);
        boolean ok = e <= tol;
        System.out.printf("  %-24s %-48s e=%.3e %s%n", label, name, e, ok ? "ok" : "FAIL (tol " + tol + ")");
        if (!ok) {
            failures.add(name + " e=" + e + " > " + tol);
        }
        return e;
    }

    /** max|x - ref| / max|ref|; infinite for a size mismatch or a non-finite value. */
    public static double relError(float[] x, float[] ref) {
        if (x.length != ref.length) {
            return Double.POSITIVE_INFINITY;
        }
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                return Double.POSITIVE_INFINITY;
            }
            maxDiff = Math.max(maxDiff, Math.abs((double) x[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /** Fails with every comparison above its tolerance. */
    public void assertAllPassed() {
        assertTrue(failures.isEmpty(), label + ": " + failures);
    }

    @Override
    public void close() {
        file.close();
    }

    /** A {@link Trace} that copies every record to the host. */
    public static final class Recorder implements Trace {
        private final Map<String, int[]> shapes = new LinkedHashMap<>();
        private final Map<String, float[]> values = new LinkedHashMap<>();

        @Override
        public void record(String name, Tensor value) {
            values.put(name, value.toFloatArray());
            shapes.put(name, value.shape().dims());
        }

        public Map<String, float[]> values() {
            return values;
        }

        public int[] shape(String name) {
            return shapes.get(name);
        }
    }
}
