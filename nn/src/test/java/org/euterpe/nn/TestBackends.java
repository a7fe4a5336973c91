package org.euterpe.nn;

import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.Backend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.provider.Arguments;

/** The backends model tests run on: the scalar reference and the fast CPU backend. */
public final class TestBackends {
    private TestBackends() {
    }

    public static Stream<Backend> cpuBackends() {
        return Stream.of(Backends.scalar(), Backends.cpu());
    }

    /** (conformance case, backend): every case on every CPU backend. */
    public static Stream<Arguments> conformanceCases() {
        return cpuBackends().flatMap(b -> Stream.of("tiny-audioldm", "tiny-musicldm", "mini-audioldm-s")
                .map(c -> Arguments.of(c, b)));
    }

    /** A check that needs ops; skipped, naming the backend, while that backend lacks an op. */
    public interface Check {
        void run() throws Exception;
    }

    public static void onBackend(Backend backend, Check check) throws Exception {
        try {
            check.run();
        } catch (UnsupportedOperationException e) {
            Assumptions.abort("backend " + backend.name() + " lacks an op: " + e.getMessage());
        }
    }
}
