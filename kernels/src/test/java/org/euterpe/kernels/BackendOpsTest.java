package org.euterpe.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.euterpe.kernels.OpHarness.Comparison;
import org.euterpe.kernels.OpHarness.OpCase;
import org.euterpe.kernels.OpHarness.Reject;
import org.euterpe.tensor.Backend;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op of every backend from {@link Backends#all()} against the scalar reference, on the
 * seeded random inputs of {@link OpCases}. A backend that cannot start here is reported as
 * skipped with its reason; an op a backend throws on (e.g. UnsupportedOperationException) fails.
 */
class BackendOpsTest {
    private static final List<Backends.Probe> PROBES = OpHarness.backendsUnderTest();

    /** (backend, case) pairs; an absent backend contributes one entry, which is skipped. */
    static Stream<Arguments> comparisons() {
        return perBackend(OpCases.all());
    }

    private static Stream<Arguments> perBackend(List<?> cases) {
        List<Arguments> out = new ArrayList<>();
        for (Backends.Probe p : PROBES) {
            Named<Backends.Probe> device = Named.of(p.device(), p);
            if (!p.available()) {
                out.add(Arguments.of(device, null));
                continue;
            }
            for (Object c : cases) {
                out.add(Arguments.of(device, Named.of(c.toString(), c)));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("comparisons")
    void matchesScalarReference(Backends.Probe probe, OpCase c) {
        Backend backend = OpHarness.require(probe);
        Comparison cmp = OpHarness.assertMatches(Backends.scalar(), backend, c);
        System.out.printf("[%s] %-80s %s%n", backend.name(), c, cmp);
    }

    static Stream<Arguments> rejections() {
        return perBackend(OpCases.rejects());
    }

    @ParameterizedTest(name = "[{0}] refuses {1}")
    @MethodSource("rejections")
    void refusesInvalidInput(Backends.Probe probe, Reject r) {
        OpHarness.assertRejects(OpHarness.require(probe), r);
    }

    /** The suite must exercise every op of the interface, so a new op cannot go untested. */
    @Test
    void casesCoverEveryOp() {
        Set<String> memory = Set.of("name", "description", "zeros", "fromArray", "fromHost", "toFloatArray",
                "toLongArray", "transfer", "randn", "close");
        Set<String> ops = new TreeSet<>();
        for (Method m : Backend.class.getMethods()) {
            if (!memory.contains(m.getName())) {
                ops.add(m.getName());
            }
        }
        Set<String> covered = new TreeSet<>();
        OpCases.all().forEach(c -> covered.add(c.op()));
        assertTrue(covered.containsAll(ops), "ops without comparison cases: " + minus(ops, covered));

        Set<String> shapeChecked = Set.of("matmul", "linear", "conv2d", "conv1d", "convTranspose1d", "groupNorm",
                "layerNorm", "attention", "binary", "embedding", "concat", "slice", "permute", "pad");
        Set<String> rejected = new TreeSet<>();
        OpCases.rejects().forEach(r -> rejected.add(r.op()));
        assertTrue(rejected.containsAll(shapeChecked), "ops without rejection cases: " + minus(shapeChecked, rejected));
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> d = new TreeSet<>(a);
        d.removeAll(b);
        return d;
    }
}
