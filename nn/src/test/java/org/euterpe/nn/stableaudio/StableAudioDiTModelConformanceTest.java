package org.euterpe.nn.stableaudio;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * StableAudioDiTModel against the two isolated DiT calls of each Stable Audio golden: the rotary table
 * (computed here, compared with the recorded one), every recorded trace and the output, at 1e-5.
 */
class StableAudioDiTModelConformanceTest {
    private static final double TOLERANCE = 1e-5;

    static Stream<Arguments> cases() {
        return StableAudioBackends.cases("tiny-stable-audio", "mini-stable-audio");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void matchesGoldens(String caseName, String device) throws Exception {
        Backend backend = StableAudioBackends.open(device);
        try (ConformanceGolden golden = ConformanceGolden.open(caseName, caseName + "/" + device);
                ComponentFiles files = ComponentFiles.open(golden.dir(), "transformer");
                Scope scope = Scope.open()) {
            StableAudioDiTModel dit = StableAudioDiTModel.load(files, backend);
            for (Object o : golden.json().getList("dit_calls")) {
                JsonObject call = new JsonObject(o, "dit_calls");
                String p = call.getString("name") + ".";
                RotaryEmbedding rotary = RotaryEmbedding.of(backend, call.getInt("rotary_embed_dim"),
                        call.getInt("rotary_positions"));
                golden.check(p + "rotary_cos", rotary.cos(), 1e-6);
                golden.check(p + "rotary_sin", rotary.sin(), 1e-6);
                Map<String, float[]> trace = new HashMap<>();
                Tensor out = dit.forward(golden.tensor(backend, p + "hidden_states"), golden.floats(p + "timestep"),
                        golden.tensor(backend, p + "encoder_hidden_states"),
                        golden.tensor(backend, p + "global_hidden_states"), rotary,
                        (name, t) -> trace.put(name, t.toFloatArray()));
                for (String record : golden.names()) {
                    if (record.startsWith(p + "trace.")) {
                        float[] x = trace.get(record.substring((p + "trace.").length()));
                        assertTrue(x != null, "no trace for " + record);
                        golden.check(record, x, TOLERANCE);
                    }
                }
                golden.check(p + "out", out, TOLERANCE);
            }
            golden.assertAllPassed();
        }
    }
}
