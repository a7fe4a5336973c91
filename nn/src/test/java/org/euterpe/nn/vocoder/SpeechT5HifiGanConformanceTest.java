package org.euterpe.nn.vocoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.TestBackends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The vocoder against the reference goldens (FORMAT.md section 6): vocoder.mel to vocoder.waveform, with traces. */
class SpeechT5HifiGanConformanceTest {
    private static final double TOLERANCE = 1e-5;

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("org.euterpe.nn.TestBackends#conformanceCases")
    void matchesGoldens(String caseName, Backend backend) throws Exception {
        try (ConformanceGolden golden = ConformanceGolden.open(caseName, caseName + "/" + backend.name());
                ComponentFiles files = ComponentFiles.open(golden.dir(), "vocoder")) {
            SpeechT5HifiGan vocoder = SpeechT5HifiGan.load(files, backend);
            TestBackends.onBackend(backend, () -> {
                Tensor mel = golden.tensor(backend, "vocoder.mel");
                Map<String, float[]> trace = new HashMap<>();
                Tensor waveform = vocoder.forward(mel, (name, t) -> trace.put(name, t.toFloatArray()));
                assertArrayEquals(golden.shape("vocoder.waveform"), waveform.shape().dims());
                for (String record : golden.names()) {
                    if (record.startsWith("vocoder.trace.")) {
                        float[] x = trace.get(record.substring("vocoder.trace.".length()));
                        assertTrue(x != null, "no trace for " + record);
                        golden.check(record, x, TOLERANCE);
                    }
                }
                golden.check("vocoder.waveform", waveform.toFloatArray(), TOLERANCE);
            });
            golden.assertAllPassed();
        }
    }
}
