package org.euterpe.nn.stableaudio;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.Backend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The backends the Stable Audio model tests run on: scalar, cpu, and OpenCL / CUDA where present (an
 * absent one is skipped with its reason). Device backends are opened once per test JVM.
 */
public final class StableAudioBackends {
    private static final Map<String, Backends.Probe> PROBES = new ConcurrentHashMap<>();

    private StableAudioBackends() {
    }

    /** (case, device) for every case on scalar, cpu, opencl and cuda. */
    public static Stream<Arguments> cases(String... caseNames) {
        return Stream.of("scalar", "cpu", "opencl", "cuda")
                .flatMap(d -> Stream.of(caseNames).map(c -> Arguments.of(c, d)));
    }

    /** The backend for {@code device}; skips the calling test, printing why, when it is absent. */
    public static Backend open(String device) {
        Backends.Probe p = PROBES.computeIfAbsent(device, Backends::probe);
        if (!p.available()) {
            System.out.println("SKIPPED on " + device + ": " + p.reason());
        }
        Assumptions.assumeTrue(p.available(), () -> device + " unavailable: " + p.reason());
        return p.backend();
    }
}
