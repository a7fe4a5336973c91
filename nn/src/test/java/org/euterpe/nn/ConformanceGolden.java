package org.euterpe.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * One conformance case's {@code golden.json} and {@code golden.safetensors} (see
 * {@code shared/conformance/FORMAT.md}), with FORMAT.md's metric
 * {@code e = max|x - ref| / max|ref|} per record. Every comparison is printed; failures are
 * collected and asserted together by {@link #assertAllPassed} so one run reports every record.
 */
public final class ConformanceGolden implements AutoCloseable {
    private final String label;
    private final Path dir;
    private final JsonObject json;
    private final SafetensorsFile tensors;
    private final List<String> failures = new ArrayList<>();

    private ConformanceGolden(String label, Path dir, JsonObject json, SafetensorsFile tensors) {
        this.label = label;
        this.dir = dir;
        this.json = json;
        this.tensors = tensors;
    }

    /**
     * Opens a conformance case (skipping the test when it is not available).
     *
     * @param label printed before every comparison, e.g. the case and backend
     */
    public static ConformanceGolden open(String caseName, String label) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        Path jsonFile = dir.resolve("golden.json");
        JsonObject json = new JsonObject(Json.parseLenient(Files.readString(jsonFile)), jsonFile.toString());
        return new ConformanceGolden(label, dir, json, SafetensorsFile.open(dir.resolve("golden.safetensors")));
    }

    /** The case folder, which is also the pipeline folder. */
    public Path dir() {
        return dir;
    }

    public JsonObject json() {
        return json;
    }

    /** The names of all golden tensors, in recording order. */
    public Set<String> names() {
        return json.getObject("tensors").map().keySet();
    }

    /** Names of recorded tensors starting with {@code prefix}, sorted. */
    public List<String> names(String prefix) {
        return tensors.names().stream().filter(n -> n.startsWith(prefix)).sorted().toList();
    }

    public boolean has(String tensor) {
        return tensors.contains(resolve(tensor));
    }

    public float[] floats(String tensor) {
        return tensors.floats(resolve(tensor));
    }

    public long[] longs(String tensor) {
        return tensors.longs(resolve(tensor));
    }

    public int[] shape(String tensor) {
        return tensors.entry(resolve(tensor)).shape().dims();
    }

    /**
     * The stored tensor behind {@code name}: FORMAT-DANCE.md's {@code tensor_aliases} map names that
     * are not stored (bit-identical to another record) to the stored one; aliases never chain.
     */
    public String resolve(String name) {
        if (json.has("tensor_aliases")) {
            Object target = json.getObject("tensor_aliases").raw(name);
            if (target instanceof String t) {
                return t;
            }
        }
        return name;
    }

    /** A recorded float tensor on {@code backend}. */
    public Tensor tensor(Backend backend, String name) {
        return backend.fromArray(floats(name), Shape.of(shape(name)));
    }

    /** A recorded 0-d value (e.g. an int64 or float32 timestep) as a float. */
    public float scalar(String name) {
        return floats(name)[0];
    }

    /**
     * FORMAT.md's metric {@code max|x - ref| / max|ref|} over the first {@code x.length}
     * elements of {@code ref} (a prefix, e.g. the real-token rows of a padded sequence);
     * infinite when x has a NaN.
     */
    public static double relError(float[] x, float[] ref) {
        if (x.length > ref.length) {
            throw new IllegalArgumentException(x.length + " values compared with a reference of " + ref.length);
        }
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < x.length; i++) {
            double d = Math.abs((double) x[i] - ref[i]);
            if (!(d <= maxDiff)) { // also catches NaN
                maxDiff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /** Compares {@code actual} (shape and values) with {@code record}. */
    public double check(String record, Tensor actual, double tol) {
        return check(record, actual.shape().dims(), actual.toFloatArray(), tol);
    }

    /** Compares {@code x} of {@code shape} with {@code record}. */
    public double check(String record, int[] shape, float[] x, double tol) {
        assertArrayEquals(shape(record), shape, record + ": shape");
        return checkPrefix(record, x, tol);
    }

    /** Compares {@code x} with {@code record}, which has the same number of values. */
    public double check(String record, float[] x, double tol) {
        int n = floats(record).length;
        if (x.length != n) {
            throw new AssertionError(record + ": " + x.length + " values, the reference has " + n);
        }
        return checkPrefix(record, x, tol);
    }

    /**
     * Compares {@code x} with the first {@code x.length} values of {@code record} (e.g. the
     * real-token rows of a padded sequence); prints e and remembers a failure above {@code tol}.
     */
    public double checkPrefix(String record, float[] x, double tol) {
        double e = relError(x, floats(record));
        boolean ok = e <= tol;
        System.out.printf("  %-24s %-48s e=%.3e %s%n", label, record, e, ok ? "ok" : "FAIL (tol " + tol + ")");
        if (!ok) {
            failures.add(record + " e=" + e + " > " + tol);
        }
        return e;
    }

    /** Fails with every comparison above its tolerance. */
    public void assertAllPassed() {
        assertTrue(failures.isEmpty(), label + ": " + failures);
    }

    @Override
    public void close() {
        tensors.close();
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
