package org.euterpe.nn.t5;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ConformanceGolden;
import org.euterpe.nn.stableaudio.StableAudioBackends;
import org.euterpe.nn.stableaudio.StableAudioProjectionModel;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * T5EncoderModel and StableAudioProjectionModel against the Stable Audio goldens
 * (FORMAT-STABLE-AUDIO.md): every prompt's embed_tokens, block outputs, final norm, last_hidden_state
 * (padding rows included) and projection; the three encode_duration records; all at 1e-5.
 */
class T5EncoderModelConformanceTest {
    private static final double TOLERANCE = 1e-5;

    static Stream<Arguments> cases() {
        return StableAudioBackends.cases("tiny-stable-audio", "mini-stable-audio");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void matchesGoldens(String caseName, String device) throws Exception {
        Backend backend = StableAudioBackends.open(device);
        try (ConformanceGolden golden = ConformanceGolden.open(caseName, caseName + "/" + device);
                ComponentFiles te = ComponentFiles.open(golden.dir(), "text_encoder");
                ComponentFiles pm = ComponentFiles.open(golden.dir(), "projection_model");
                Scope scope = Scope.open()) {
            T5EncoderModel encoder = T5EncoderModel.load(te, backend);
            StableAudioProjectionModel projection = StableAudioProjectionModel.load(pm, backend);
            int n = golden.json().getList("prompts").size();
            for (int i = 0; i < n; i++) {
                String p = "prompt." + i + ".";
                long[] ids = golden.longs(p + "input_ids");
                long[] mask = golden.longs(p + "attention_mask");
                Map<String, float[]> trace = new HashMap<>();
                Tensor last = encoder.forward(new long[][] {ids}, new long[][] {mask},
                        (name, t) -> trace.put(name, t.toFloatArray()));
                for (String record : golden.names()) {
                    if (record.startsWith(p + "t5_trace.")) {
                        float[] x = trace.get(record.substring((p + "t5_trace.").length()));
                        assertTrue(x != null, "no trace for " + record);
                        golden.check(record, x, TOLERANCE);
                    }
                }
                golden.check(p + "last_hidden_state", last, TOLERANCE);
                golden.check(p + "projected", projection.projectText(last), TOLERANCE);
            }
            for (Object o : golden.json().getList("encode_duration")) {
                JsonObject d = new JsonObject(o, "encode_duration");
                String r = "encode_duration." + d.getString("name") + ".";
                float start = (float) d.getDouble("audio_start_in_s");
                float end = (float) d.getDouble("audio_end_in_s");
                golden.check(r + "seconds_start_hidden_states", projection.secondsStart(new float[] {start}, backend),
                        TOLERANCE);
                golden.check(r + "seconds_end_hidden_states", projection.secondsEnd(new float[] {end}, backend),
                        TOLERANCE);
            }
            golden.assertAllPassed();
        }
    }
}
