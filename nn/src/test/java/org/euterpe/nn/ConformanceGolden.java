package org.euterpe.nn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.euterpe.tensor.TestData;

/**
 * One conformance case's {@code golden.json} and {@code golden.safetensors} (see
 * {@code shared/conformance/FORMAT.md}), with the error metric and a per-record report.
 */
public final class ConformanceGolden implements AutoCloseable {
    private final String name;
    private final Path dir;
    private final JsonObject json;
    private final SafetensorsFile tensors;
    private final List<String> report = new ArrayList<>();
    private double worst;

    private ConformanceGolden(String name, Path dir, JsonObject json, SafetensorsFile tensors) {
        this.name = name;
        this.dir = dir;
        this.json = json;
        this.tensors = tensors;
    }

    /** Opens a conformance case (skipping the test when it is not available). */
    public static ConformanceGolden open(String caseName) throws IOException {
        Path dir = TestData.conformanceCase(caseName);
        JsonObject json = new JsonObject(Json.parseLenient(Files.readString(dir.resolve("golden.json"))),
                dir.resolve("golden.json").toString());
        return new ConformanceGolden(caseName, dir, json, SafetensorsFile.open(dir.resolve("golden.safetensors")));
    }

    public String name() {
        return name;
    }

    /** The case folder, which is also the pipeline folder. */
    public Path dir() {
        return dir;
    }

    public JsonObject json() {
        return json;
    }

    /** The names of all golden tensors, in recording order. */
    public java.util.Set<String> names() {
        return json.getObject("tensors").map().keySet();
    }

    public boolean has(String tensor) {
        return tensors.contains(tensor);
    }

    public float[] floats(String tensor) {
        return tensors.floats(tensor);
    }

    public long[] longs(String tensor) {
        return tensors.longs(tensor);
    }

    public int[] shape(String tensor) {
        return tensors.entry(tensor).shape().dims();
    }

    /**
     * FORMAT.md's metric {@code max|x - ref| / max|ref|} over the first {@code x.length}
     * elements of {@code ref} (a prefix, e.g. the real-token rows of a padded sequence).
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

    /** Compares {@code x} with {@code record} (same size), logs it and returns the error. */
    public double compare(String record, float[] x) {
        float[] ref = floats(record);
        if (x.length != ref.length) {
            throw new AssertionError(record + ": " + x.length + " values, the reference has " + ref.length);
        }
        return comparePrefix(record, x);
    }

    /**
     * Compares {@code x} with the first {@code x.length} values of {@code record} (e.g. the
     * real-token rows of a padded sequence), logs it and returns the error.
     */
    public double comparePrefix(String record, float[] x) {
        double e = relError(x, floats(record));
        worst = Math.max(worst, e);
        report.add(String.format(Locale.ROOT, "%-48s e=%.3e", record, e));
        return e;
    }

    /** The largest error {@link #compare} has seen. */
    public double worst() {
        return worst;
    }

    /** One line per compared record. */
    public String report() {
        return String.join("\n", report);
    }

    @Override
    public void close() {
        tensors.close();
    }
}
