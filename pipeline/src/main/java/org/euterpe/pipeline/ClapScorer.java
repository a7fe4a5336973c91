package org.euterpe.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import org.euterpe.nn.Trace;
import org.euterpe.nn.clap.ClapModel;
import org.euterpe.pipeline.audio.ClapFeatureExtractor;
import org.euterpe.pipeline.audio.Resampler;
import org.euterpe.pipeline.tokenizer.BpeTokenizer;
import org.euterpe.pipeline.tokenizer.Encoding;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Text-audio similarity with a whole CLAP model, as diffusers' MusicLDM {@code score_waveforms} computes it: the
 * prompts tokenized without truncation, each clip resampled to the feature extractor's rate (48 kHz; diffusers
 * uses librosa, this engine its own {@link Resampler}), turned into CLAP features, embedded by the audio tower,
 * and {@code logits_per_text = normalised text @ normalised audio^T * exp(logit_scale_t)}.
 *
 * <p>Clips longer than the front-end's {@code max_length_s} are scored on their first {@code max_length_s}
 * seconds: the reference crops them at random (see {@link ClapFeatureExtractor}), which no deterministic engine
 * can reproduce.
 */
public final class ClapScorer {
    private final ClapModel clap;
    private final ClapFeatureExtractor features;
    private final BpeTokenizer tokenizer;

    ClapScorer(ClapModel clap, ClapFeatureExtractor features, BpeTokenizer tokenizer) {
        this.clap = clap;
        this.features = features;
        this.tokenizer = tokenizer;
    }

    public ClapModel model() {
        return clap;
    }

    public ClapFeatureExtractor featureExtractor() {
        return features;
    }

    /**
     * {@code logits_per_text [prompts][clips]}.
     *
     * @param clips mono clips at {@code sampleRate}
     */
    public float[][] logitsPerText(List<String> prompts, List<float[]> clips, int sampleRate) {
        return logitsPerText(prompts, clips, sampleRate, Trace.NONE);
    }

    /**
     * As {@link #logitsPerText(List, List, int)}; {@code trace} receives {@code input_features}, the audio tower's
     * records, {@code audio_embeds}, {@code text_embeds} and {@code logits_per_text}.
     */
    public float[][] logitsPerText(List<String> prompts, List<float[]> clips, int sampleRate, Trace trace) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompt to score against");
        }
        if (clips.isEmpty()) {
            throw new IllegalArgumentException("no audio to score");
        }
        long[][] ids = new long[prompts.size()][];
        long[][] mask = new long[prompts.size()][];
        for (int i = 0; i < prompts.size(); i++) {
            Encoding e = tokenizer.encodeUntruncated(prompts.get(i));
            ids[i] = e.inputIds();
            mask[i] = e.attentionMask();
        }
        try (Scope scope = Scope.open()) {
            // one clip at a time: memory stays that of one clip, and clips do not interact
            List<Tensor> embeds = new ArrayList<>();
            for (int i = 0; i < clips.size(); i++) {
                ClapFeatureExtractor.Features f = featuresOf(clips.get(i), sampleRate);
                Tensor x = clap.backend().fromArray(f.inputFeatures(),
                        Shape.of(1, f.channels(), f.frames(), f.mels()));
                Trace clip = trace.enabled() ? trace.prefixed("clip." + i + ".") : Trace.NONE;
                clip.record("input_features", x);
                Tensor e = clap.audioEmbeds(x, clip);
                clip.record("audio_embeds", e);
                embeds.add(e);
            }
            Tensor audio = embeds.size() == 1 ? embeds.get(0) : clap.backend().concat(embeds, 0);
            trace.record("audio_embeds", audio);
            Tensor text = clap.textEmbeds(ids, mask);
            trace.record("text_embeds", text);
            Tensor logits = clap.logitsPerText(text, audio);
            trace.record("logits_per_text", logits);
            float[] flat = logits.toFloatArray();
            float[][] out = new float[prompts.size()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = Arrays.copyOfRange(flat, i * clips.size(), (i + 1) * clips.size());
            }
            return out;
        }
    }

    private ClapFeatureExtractor.Features featuresOf(float[] clip, int sampleRate) {
        float[] at48 = sampleRate == features.sampleRate() ? clip
                : Resampler.resample(clip, sampleRate, features.sampleRate());
        if (at48.length > features.maxSamples()) {
            at48 = Arrays.copyOf(at48, features.maxSamples());
        }
        return features.extract(at48);
    }

    /**
     * Indices of {@code logits} best first (descending; ties keep the earlier clip first), as the
     * {@code argsort(descending=True)} of diffusers' re-ranking.
     */
    public static int[] bestFirst(float[] logits) {
        return IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -logits[i]))
                .mapToInt(Integer::intValue).toArray();
    }
}
