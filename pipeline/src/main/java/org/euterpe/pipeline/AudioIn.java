package org.euterpe.pipeline;

import org.euterpe.nn.PartProgress;
import org.euterpe.nn.vae.DiagonalGaussianDistribution;
import org.euterpe.nn.vocoder.HifiGanConfig;
import org.euterpe.pipeline.audio.Resampler;
import org.euterpe.pipeline.audio.TacotronStft;
import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.scheduler.Scheduler;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Audio in for the latent (AudioLDM, MusicLDM) pipeline: a source clip to latents, and the pieces the
 * verbs share.
 *
 * <pre>
 *   clip ──mono (mean of channels)──▶ resampled to the vocoder's rate ──TacotronStft.fbank──▶
 *   log-mel [1, 1, frames, mels] ──AutoencoderKL.encode──▶ posterior mean × scaling_factor [1, C, h, w]
 * </pre>
 *
 * <ul>
 *   <li>Regeneration (SDEdit): with strength S and N steps, {@code int(N S)} steps are run: the source's
 *       latents are noised with the sampler's {@code add_noise} to the level of step {@code N - int(N S)} (times
 *       the sampler's order), and denoised from there with the prompt, as diffusers' img2img pipelines do.
 *       {@code int(N S) = 0} returns the source's VAE round trip; S = 1 is plain generation from the same
 *       noise (the source is not mixed in, unlike img2img's trace of it at the first timestep).</li>
 *   <li>Inpainting and continuation: generation from noise where, after every step, the latents outside
 *       the mask are replaced by the source's latents noised (the same noise draw as the initial latents) to
 *       the next step's level, and after the last step by the source's latents themselves (RePaint's
 *       blending without resampling). Latent frames are masked whole, so the mask grows to latent frame
 *       boundaries ({@code f × hop} samples: 40 ms for AudioLDM). The decoded waveform outside the mask is then
 *       replaced by the source's VAE round trip (decode and vocode of its latents), so the kept region is
 *       that round trip exactly; the generated audio fades in over 10 ms inside the mask's edges.</li>
 * </ul>
 *
 * The level and length rules are AudioLDM's {@code read_wav_file} (mean removed, peak 0.5, cut or
 * zero-padded to the output's length), so the output is at that level too.
 */
public final class AudioIn {
    /** Crossfade into generated audio at a mask edge. */
    static final double FADE_SECONDS = 0.010;

    private AudioIn() {
    }

    /**
     * The encoded source.
     *
     * @param latents      {@code [batch, C, h, w]}: the source's scaled latents, repeated for every waveform
     * @param mask         {@code [batch, C, h, w]}: 1 where generated, 0 where kept; null for regeneration
     * @param maskFrom     first masked sample of the output, or -1 for regeneration
     * @param maskTo       first sample after the masked region
     */
    record Source(float[] latents, float[] mask, long maskFrom, long maskTo) {
    }

    /** The output length a request implies when it names none: the clip, or up to the mask's end. */
    static Double defaultSeconds(GenerationRequest r) {
        if (r.sourceAudio() == null) {
            return null;
        }
        double s = r.sourceAudio().seconds();
        return r.mask() != null ? Math.max(s, r.mask().endSeconds()) : s;
    }

    /** The front-end for a model: AudioLDM's settings, with hop and mel bins from its vocoder. */
    public static TacotronStft frontEnd(AudioModel m) {
        HifiGanConfig voc = m.vocoder().config();
        int hop = 1;
        for (int r : voc.upsampleRates()) {
            hop *= r;
        }
        // n_fft = win = 1024 at hop 160 (the real checkpoints); other hops (tiny test models) keep the ratio.
        int nFft = 1 << Math.max(1, (int) Math.round(Math.log(hop * 6.4) / Math.log(2)));
        int sr = voc.samplingRate();
        return new TacotronStft(sr, nFft, hop, nFft, voc.modelInDim(), 0, sr / 2.0);
    }

    /** The first index of {@code scheduler.timesteps()} that SDEdit with {@code strength} runs. */
    static int startIndex(Scheduler scheduler, int steps, double strength) {
        int init = Math.min((int) (steps * strength), steps);
        int tStart = Math.max(steps - init, 0);
        return Math.min(tStart * scheduler.order(), scheduler.timesteps().length);
    }

    /**
     * The log-mel of a clip as the VAE sees it, {@code [frames][mels]} row-major, for an output of
     * {@code frames} mel frames.
     */
    public static float[] melOf(AudioModel m, WavReader.Audio clip, int frames) {
        TacotronStft stft = frontEnd(m);
        float[] mono = Resampler.resample(clip.mono(), clip.sampleRate(), stft.sampleRate());
        return stft.fbank(mono, frames);
    }

    /**
     * A clip's latents, {@code [1, C, frames / f, mels / f]}: the posterior's mean (or a sample of it with
     * {@code sampleSeed}), times the VAE's scaling factor.
     */
    public static float[] encodeLatents(AudioModel m, WavReader.Audio clip, int frames, Long sampleSeed) {
        float[] mel = melOf(m, clip, frames);
        int mels = mel.length / frames;
        float scale = (float) m.vae().scalingFactor().orElse(1.0);
        try (Scope scope = Scope.open()) {
            DiagonalGaussianDistribution post = m.vae().encode(m.backend().fromArray(mel, Shape.of(1, 1, frames,
                    mels)));
            Tensor z = sampleSeed == null ? post.mode() : post.sample(sampleSeed);
            float[] out = z.toFloatArray();
            for (int i = 0; i < out.length; i++) {
                out[i] *= scale;
            }
            return out;
        }
    }

    /** The request's source, encoded for geometry {@code geo}, with its mask if it has one. */
    static Source encode(TextToAudioPipeline pipe, GenerationRequest r, LatentGeometry geo) {
        AudioModel m = pipe.model();
        int[] shape = geo.latentShape();
        int batch = shape[0];
        float[] one = encodeLatents(m, r.sourceAudio(), geo.height(), null);
        int per = one.length;
        if (per * batch != geo.latentSize()) {
            throw new IllegalStateException("source latents have " + per + " values per clip, the geometry "
                    + java.util.Arrays.toString(shape) + " needs " + geo.latentSize() / batch);
        }
        float[] latents = new float[per * batch];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(one, 0, latents, b * per, per);
        }
        if (r.mask() == null) {
            return new Source(latents, null, -1, -1);
        }
        int f = m.vae().vaeScaleFactor();
        HifiGanConfig voc = m.vocoder().config();
        long samplesPerLatent = (long) f * frontEnd(m).hop();
        int sr = voc.samplingRate();
        int h = shape[2];
        int from = (int) Math.floor(r.mask().startSeconds() * sr / samplesPerLatent);
        int to = (int) Math.min(h, Math.ceil(r.mask().endSeconds() * sr / samplesPerLatent));
        if (from <= 0 && to >= h) {
            throw new IllegalArgumentException("the mask " + r.mask().startSeconds() + "-" + r.mask().endSeconds()
                    + " s covers the whole " + geo.originalWaveformLength() / (double) sr + " s output; nothing is"
                    + " kept (use plain generation or --strength)");
        }
        if (from >= h) {
            throw new IllegalArgumentException("the mask starts at " + r.mask().startSeconds() + " s, after the "
                    + geo.originalWaveformLength() / (double) sr + " s output ends");
        }
        float[] mask = new float[latents.length];
        int c = shape[1];
        int w = shape[3];
        for (int b = 0; b < batch; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = from; y < to; y++) {
                    int base = ((b * c + ch) * h + y) * w;
                    java.util.Arrays.fill(mask, base, base + w, 1f);
                }
            }
        }
        return new Source(latents, mask, from * samplesPerLatent, to * samplesPerLatent);
    }

    /** {@code mask * generated + (1 - mask) * known}. */
    static float[] blend(float[] generated, float[] known, float[] mask) {
        float[] out = new float[generated.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = mask[i] != 0 ? generated[i] : known[i];
        }
        return out;
    }

    /** The source's VAE round trip for one clip of the geometry: its latents decoded and vocoded. */
    static float[] roundTrip(TextToAudioPipeline pipe, Source source, LatentGeometry geo) {
        AudioModel m = pipe.model();
        int[] shape = geo.latentShape();
        int per = shape[1] * shape[2] * shape[3];
        float inv = (float) (1.0 / m.vae().scalingFactor().orElse(1.0));
        float[] z = new float[per];
        for (int i = 0; i < per; i++) {
            z[i] = inv * source.latents()[i];
        }
        try (Scope scope = Scope.open()) {
            // In tiles and chunks past the pipeline's thresholds, as the generated clip is decoded.
            Tensor mel = m.vae().decodeTiled(m.backend().fromArray(z, Shape.of(1, shape[1], shape[2], shape[3])),
                    TextToAudioPipeline.VAE_TILING, PartProgress.NONE);
            Tensor wave = m.vocoder().forwardChunked(mel.reshape(1, mel.dim(2), mel.dim(3)),
                    TextToAudioPipeline.vocoderChunkFrames(m.vocoder()), PartProgress.NONE);
            float[] full = wave.toFloatArray();
            return java.util.Arrays.copyOf(full, Math.min(full.length, geo.originalWaveformLength()));
        }
    }

    /** Outside the mask, {@code out} becomes {@code kept}; inside, a 10 ms fade from it at each edge. */
    static void paste(float[] out, float[] kept, Source source, int sampleRate) {
        int n = Math.min(out.length, kept.length);
        int from = (int) Math.min(source.maskFrom(), n);
        int to = (int) Math.min(source.maskTo(), n);
        int fade = Math.max(1, (int) Math.round(FADE_SECONDS * sampleRate));
        for (int i = 0; i < n; i++) {
            if (i < from || i >= to) {
                out[i] = kept[i];
            } else {
                int d = Math.min(from > 0 ? i - from : Integer.MAX_VALUE, to < n ? to - 1 - i : Integer.MAX_VALUE);
                if (d < fade) {
                    float g = (d + 1f) / (fade + 1f); // weight of the generated audio
                    out[i] = g * out[i] + (1 - g) * kept[i];
                }
            }
        }
    }
}
