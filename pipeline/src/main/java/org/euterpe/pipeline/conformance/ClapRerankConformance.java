package org.euterpe.pipeline.conformance;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.converter.Precision;
import org.euterpe.pipeline.AudioModel;
import org.euterpe.pipeline.ClapScorer;
import org.euterpe.pipeline.audio.ClapFeatureExtractor;
import org.euterpe.nn.Trace;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * MusicLDM's CLAP re-ranking against a {@code *-rerank} case (its golden.json lists {@code clips} and
 * {@code rerank} records; the weights are those of its {@code model_case}):
 * <ul>
 *   <li>{@code clip.N.input_features} from {@code clip.N.audio} (48 kHz) and {@code clip.N.is_longer} (exact);</li>
 *   <li>{@code clip.N.audio_embeds} from the recorded features (open loop), and again from the engine's own
 *       features (" (from audio)");</li>
 *   <li>per rerank record: {@code input_ids} (exact), {@code text_embeds}, {@code audio_embeds},
 *       {@code logits_per_text} through the engine's scorer from the clips' audio, and {@code order} (exact).</li>
 * </ul>
 * Tolerance: FORMAT.md's text-encoder 1e-5 for every float record (features, embeddings, logits).
 */
final class ClapRerankConformance {
    static final double TOL = 1e-5;

    private final ConformanceRunner r;
    private final JsonObject g;
    private final Path caseDir;
    private final Path modelDir;
    private final Backend backend;
    private final Precision precision;

    ClapRerankConformance(ConformanceRunner runner, JsonObject golden, Path caseDir, Path modelDir, Backend backend,
            Precision precision) {
        this.r = runner;
        this.g = golden;
        this.caseDir = caseDir;
        this.modelDir = modelDir;
        this.backend = backend;
        this.precision = precision;
    }

    /** A re-ranking case: golden.json has {@code clips} and {@code rerank}. */
    static boolean isRerankCase(JsonObject golden) {
        return golden.has("rerank") && golden.has("clips");
    }

    void run() throws IOException {
        try (SafetensorsFile gs = SafetensorsFile.open(caseDir.resolve("golden.safetensors"));
                AudioModel model = AudioModel.load(modelDir, backend, precision)) {
            r.snrFloor = ConformanceRunner.snrFloor(model.weightDtypes());
            ClapScorer scorer = model.clapScorer();
            ClapFeatureExtractor fe = scorer.featureExtractor();
            Map<Integer, float[]> audio = new HashMap<>();
            for (Object c : g.getList("clips")) {
                int i = new JsonObject(c, "clip").getInt("index");
                String p = "clip." + i + ".";
                float[] wave = gs.floats(p + "audio");
                audio.put(i, wave);
                ClapFeatureExtractor.Features f = fe.extract(wave);
                r.record(p + "input_features", f.inputFeatures(), gs.floats(p + "input_features"), TOL);
                long[] longer = gs.longs(p + "is_longer");
                r.exact(p + "is_longer", (longer[0] != 0) == f.isLonger(), "is_longer " + f.isLonger());
                try (Scope scope = Scope.open()) {
                    int[] shape = gs.entry(p + "input_features").shape().dims();
                    Tensor recorded = backend.fromArray(gs.floats(p + "input_features"), Shape.of(shape));
                    r.record(p + "audio_embeds", scorer.model().audioEmbeds(recorded, Trace.NONE).toFloatArray(),
                            gs.floats(p + "audio_embeds"), TOL);
                    Tensor own = backend.fromArray(f.inputFeatures(),
                            Shape.of(1, f.channels(), f.frames(), f.mels()));
                    float[] got = scorer.model().audioEmbeds(own, Trace.NONE).toFloatArray();
                    r.record(p + "audio_embeds (from audio)", got, gs.floats(p + "audio_embeds"), TOL);
                }
            }
            for (Object o : g.getList("rerank")) {
                JsonObject rec = new JsonObject(o, "rerank");
                String p = "rerank." + rec.getInt("index") + ".";
                String prompt = rec.getString("prompt");
                long[] ids = model.tokenizer().encodeUntruncated(prompt).inputIds();
                boolean idsEqual = Arrays.equals(ids, gs.longs(p + "input_ids"));
                r.exact(p + "input_ids", idsEqual, idsEqual ? "exact" : "differs: " + Arrays.toString(ids));
                r.record(p + "logit_scale_t", new float[] {scorer.model().logitScaleText()},
                        new float[] {(float) rec.getDouble("logit_scale_t")}, 1e-6);
                List<float[]> clips = new ArrayList<>();
                for (int idx : rec.getIntArray("clips")) {
                    clips.add(audio.get(idx));
                }
                Map<String, float[]> traced = new HashMap<>();
                float[][] logits = scorer.logitsPerText(List.of(prompt), clips, fe.sampleRate(),
                        (name, t) -> traced.put(name, t.toFloatArray()));
                r.record(p + "text_embeds", traced.get("text_embeds"), gs.floats(p + "text_embeds"), TOL);
                r.record(p + "audio_embeds", traced.get("audio_embeds"), gs.floats(p + "audio_embeds"), TOL);
                r.record(p + "logits_per_text", logits[0], gs.floats(p + "logits_per_text"), TOL);
                long[] order = Arrays.stream(ClapScorer.bestFirst(logits[0])).asLongStream().toArray();
                boolean same = Arrays.equals(order, gs.longs(p + "order"));
                r.exact(p + "order", same, "order " + Arrays.toString(order));
            }
        }
    }
}
