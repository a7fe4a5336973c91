package org.euterpe.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs an op on a backend and on the scalar reference with identical seeded inputs and compares
 * the results. Nothing here names a backend: the backends under test come from
 * {@link Backends#all()} (or {@code -Deuterpe.test.devices=cpu,scalar,...}), so a new device
 * backend is tested by registering it there.
 */
public final class OpHarness {
    private OpHarness() {
    }

    /**
     * One op invocation to compare across backends.
     *
     * @param op        the Backend method exercised (checked for coverage)
     * @param detail    shapes and parameters, for the report
     * @param tolerance allowed max abs error relative to max |reference|; 0 means bit-exact
     * @param run       builds the inputs from the generator (on its backend) and runs the op
     */
    public record OpCase(String op, String detail, double tolerance, Function<RandomTensors, Tensor> run) {
        /** Inputs are seeded by the case's name, so every backend sees the same ones. */
        long seed() {
            return (op + " " + detail).hashCode() * 0x9E3779B97F4A7C15L;
        }

        @Override
        public String toString() {
            return op + " " + detail;
        }
    }

    /** An invalid invocation every backend must refuse with IllegalArgumentException. */
    public record Reject(String op, String detail, Function<RandomTensors, Tensor> run) {
        @Override
        public String toString() {
            return op + " " + detail;
        }
    }

    /** How a candidate's output differs from the reference's. */
    public record Comparison(double maxAbs, double maxRef) {
        /** Max abs error relative to the largest reference magnitude. */
        public double maxRel() {
            return maxRef == 0 ? (maxAbs == 0 ? 0 : Double.POSITIVE_INFINITY) : maxAbs / maxRef;
        }

        @Override
        public String toString() {
            return String.format("max abs %.3g, max rel %.3g (max |ref| %.3g)", maxAbs, maxRel(), maxRef);
        }
    }

    /** The backends under test, each with its reason when it cannot run here. */
    public static List<Backends.Probe> backendsUnderTest() {
        String devices = System.getProperty("euterpe.test.devices");
        if (devices == null || devices.isBlank()) {
            return Backends.all();
        }
        List<Backends.Probe> out = new ArrayList<>();
        for (String d : devices.split(",")) {
            out.add(Backends.probe(d.trim()));
        }
        return out;
    }

    /** Skips the calling test, with the reason in the report, when the backend cannot run here. */
    public static Backend require(Backends.Probe probe) {
        if (!probe.available()) {
            String why = "backend " + probe.device() + " skipped: " + probe.reason();
            System.out.println("SKIPPED " + why); // the console shows no abort messages, so say it here too
            Assumptions.abort(why);
        }
        return probe.backend();
    }

    /** An op's output as host values: its shape, dtype and elements (integers kept exact). */
    record Output(Shape shape, DType dtype, float[] floats, long[] longs) {
    }

    static Output run(Backend backend, OpCase c) {
        try (Scope _ = Scope.open()) {
            Tensor t = c.run().apply(new RandomTensors(backend, c.seed()));
            // Model code closes intermediates early (the vocoder's 20 MB activations); a result
            // that is a view of a hidden temporary would stay allocated until its scope closes.
            assertTrue(t.ownsStorage(), () -> "[" + backend.name() + "] " + c + ": the result must own its storage");
            boolean integer = t.dtype() == DType.I64 || t.dtype() == DType.I32;
            return new Output(t.shape(), t.dtype(), integer ? null : t.toFloatArray(),
                    integer ? t.toLongArray() : null);
        }
    }

    /** Compares {@code candidate} with {@code reference}; shapes and dtypes must match exactly. */
    static Comparison compare(Output reference, Output candidate, String what) {
        assertEquals(reference.shape(), candidate.shape(), what + ": shape");
        assertEquals(reference.dtype(), candidate.dtype(), what + ": dtype");
        if (reference.longs() != null) {
            assertTrue(Arrays.equals(reference.longs(), candidate.longs()), what + ": integer values differ");
            return new Comparison(0, Arrays.stream(reference.longs()).map(Math::abs).max().orElse(0));
        }
        float[] r = reference.floats();
        float[] g = candidate.floats();
        double maxAbs = 0;
        double maxRef = 0;
        for (int i = 0; i < r.length; i++) {
            if (Float.isNaN(r[i]) || Float.isInfinite(r[i])) {
                if (Float.compare(r[i], g[i]) != 0) {
                    fail(what + ": element " + i + " is " + g[i] + ", reference " + r[i]);
                }
                continue;
            }
            double err = Math.abs((double) g[i] - r[i]);
            if (!(err <= maxAbs)) { // also catches a NaN where the reference is finite
                maxAbs = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
            }
            maxRef = Math.max(maxRef, Math.abs(r[i]));
        }
        return new Comparison(maxAbs, maxRef);
    }

    /**
     * Runs {@code c} on both backends and asserts the candidate is within the case's tolerance;
     * returns the errors for the report.
     */
    public static Comparison assertMatches(Backend reference, Backend candidate, OpCase c) {
        String what = "[" + candidate.name() + "] " + c;
        Output ref = run(reference, c);
        Output got = run(candidate, c);
        Comparison cmp = compare(ref, got, what);
        if (c.tolerance() == 0) {
            assertEquals(0.0, cmp.maxAbs(), () -> what + " must be exact: " + cmp);
        } else {
            assertTrue(cmp.maxRel() <= c.tolerance(), () -> what + ": " + cmp + " exceeds tolerance " + c.tolerance());
        }
        return cmp;
    }

    /** Asserts that {@code backend} refuses the invocation with IllegalArgumentException. */
    public static IllegalArgumentException assertRejects(Backend backend, Reject r) {
        try (Scope _ = Scope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> r.run().apply(new RandomTensors(backend, 1)),
                    () -> "[" + backend.name() + "] " + r + " should be refused");
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "the refusal should say why");
            return e;
        }
    }
}
