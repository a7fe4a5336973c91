package org.euterpe.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import org.euterpe.nn.vae.AutoencoderKL;
import org.euterpe.nn.vocoder.HifiGanConfig;
import org.euterpe.nn.vocoder.SpeechT5HifiGan;
import org.euterpe.pipeline.GenerationRequest.NoiseMode;
import org.euterpe.pipeline.noise.TorchGenerator;
import org.euterpe.pipeline.scheduler.DdimScheduler;
import org.euterpe.pipeline.scheduler.NoiseSource;
import org.euterpe.pipeline.scheduler.SamplerKind;
import org.euterpe.pipeline.scheduler.Scheduler;
import org.euterpe.pipeline.scheduler.SchedulerConfig;
import org.euterpe.pipeline.tokenizer.BpeTokenizer;
import org.euterpe.pipeline.tokenizer.Encoding;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.NormalNoise;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Text to audio, as diffusers' AudioLDMPipeline and MusicLDMPipeline run it:
 *
 * <pre>
 *   prompt ──tokenizer──▶ CLAP text encoder ──L2 norm──▶ class labels [2B, P] (uncond, cond)
 *   noise [B, C, h, w] ──▶ for t in timesteps: U-Net(latents×2, t, class labels) ──CFG──▶ sampler step
 *   latents / scaling_factor ──▶ VAE decoder ──▶ mel [B, 1, frames, bins] ──▶ HiFi-GAN ──▶ waveform
 * </pre>
 *
 * <p>Thread safety: one generation runs at a time per pipeline; concurrent callers of
 * {@link #generate} wait their turn (the method is synchronized). For parallel generation,
 * load the model once per thread.
 */
public final class TextToAudioPipeline implements AudioPipeline {
    /**
     * How a long latent is decoded: in tiles of at most 512 latent frames (20.48 s at AudioLDM's
     * and MusicLDM's 100 mel frames per second and VAE factor 4) overlapping by 48 frames, of which
     * 16 are cross-faded. Shorter latents are decoded in one piece, exactly as before. Fixed, not
     * sized by the heap, so a request gives the same audio on every machine.
     */
    public static final AutoencoderKL.Tiling VAE_TILING = new AutoencoderKL.Tiling(512, 16, 16);

    /**
     * Waveform samples per vocoder chunk: mels whose waveform is up to this long (1024 frames of
     * AudioLDM's and MusicLDM's 160-sample hop, 10.24 s at 16 kHz) are vocoded in one piece;
     * longer ones in even chunks of at most {@link #vocoderChunkFrames} frames, each with its
     * receptive field of context on either side. Counted in samples, not frames, because the
     * vocoder's activations are per output sample: a vocoder with a short hop (the bundled tiny
     * model's is 4 samples, 4000 frames per second) would otherwise be cut into chunks of 0.26 s,
     * e.g. a 0.5 s clip into 2.
     */
    public static final long VOCODER_CHUNK_SAMPLES = 1024L * 160;

    /** Mel frames per vocoder chunk for {@code vocoder}: {@link #VOCODER_CHUNK_SAMPLES} over its hop. */
    public static int vocoderChunkFrames(SpeechT5HifiGan vocoder) {
        return vocoderChunkFrames(vocoder.config().hopLength());
    }

    /** Mel frames per vocoder chunk for a vocoder of hop {@code hopLength} samples (1024 at 160). */
    public static int vocoderChunkFrames(int hopLength) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, VOCODER_CHUNK_SAMPLES / Math.max(1, hopLength)));
    }

    private final AudioModel model;
    private final WeightResidency residency;
    /** The unconditional (negative prompt) embedding by text: it does not change between calls. */
    private final Map<String, float[]> uncondCache = new ConcurrentHashMap<>();

    /** A pipeline with the {@linkplain WeightResidency#DEFAULT default} weight residency. */
    public TextToAudioPipeline(AudioModel model) {
        this(model, WeightResidency.DEFAULT);
    }

    /** A pipeline that treats the model's mapped weights between stages as {@code residency} says. */
    public TextToAudioPipeline(AudioModel model, WeightResidency residency) {
        this.model = Objects.requireNonNull(model, "model");
        this.residency = Objects.requireNonNull(residency, "residency");
    }

    public WeightResidency residency() {
        return residency;
    }

    public AudioModel model() {
        return model;
    }

    @Override
    public String pipelineClass() {
        return model.family().className;
    }

    @Override
    public int sampleRate() {
        return model.vocoder().config().samplingRate();
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public boolean takesPrompts() {
        return true;
    }

    @Override
    public int defaultSteps() {
        return model.family().defaultSteps();
    }

    /** Generates audio for {@code request}. */
    @Override
    public GenerationResult generate(GenerationRequest request, ProgressListener listener) {
        return generate(request, listener, null, StepTrace.NONE);
    }

    /**
     * Generates audio, optionally replacing the sampler's noise (to replay a recorded run) and
     * tracing every intermediate.
     *
     * @param stepNoise noise for stochastic samplers, or null to draw it from the request's seed
     */
    public synchronized GenerationResult generate(GenerationRequest request, ProgressListener listener,
            NoiseSource stepNoise, StepTrace trace) {
        check(request);
        return run(request, listener, stepNoise, trace, null, null);
    }

    /**
     * The whole run. {@code labelsOverride} replaces the prompts' class labels (prompt interpolation);
     * {@code noiseOverride} replaces the initial noise (clip interpolation), before init_noise_sigma.
     */
    private GenerationResult run(GenerationRequest request, ProgressListener listener, NoiseSource stepNoise,
            StepTrace trace, float[] labelsOverride, float[] noiseOverride) {
        AudioModel m = model;
        Backend backend = m.backend();
        HifiGanConfig voc = m.vocoder().config();
        int batch = request.prompts().size() * request.waveformsPerPrompt();
        Double seconds = request.seconds() != null ? request.seconds() : AudioIn.defaultSeconds(request);
        LatentGeometry geo = LatentGeometry.of(seconds, batch, m.unet().inChannels(),
                m.vae().vaeScaleFactor(), voc.modelInDim(), voc.upsampleRates(), voc.samplingRate(),
                m.unetSampleSize());
        double guidance = request.guidanceScale() != null ? request.guidanceScale() : m.family().defaultGuidance();
        int steps = request.steps() != null ? request.steps() : m.family().defaultSteps();
        boolean cfg = guidance > 1.0;
        checkMemory(request, geo, cfg, steps, listener);
        // MusicLDM re-ranks several waveforms per prompt with CLAP: load the audio branch now, so a model without
        // one fails before any denoising
        ClapScorer scorer = reranks(request) ? m.clapScorer() : null;

        // 1. Text conditioning.
        listener.onStageStart("encode");
        long t0 = System.nanoTime();
        float[] classLabels = labelsOverride != null ? labelsOverride
                : encodePrompt(request.prompts(), request.waveformsPerPrompt(), cfg, request.negativePrompt());
        int projection = classLabels.length / (cfg ? 2 * batch : batch);
        trace.record("prompt_embeds", classLabels);
        stageDone("text_encoder");
        listener.onStage("encode", seconds(t0));

        // 2. Sampler and initial noise.
        Scheduler scheduler = scheduler(request);
        scheduler.setTimesteps(steps);
        double[] timesteps = scheduler.timesteps();
        int n = geo.latentSize();
        TorchGenerator torch = request.noise() == NoiseMode.TORCH ? new TorchGenerator(request.seed()) : null;
        float[] latents;
        if (request.initialLatents() != null) {
            latents = request.initialLatents();
            if (latents.length != n) {
                throw new IllegalArgumentException("initial latents have " + latents.length + " values, the shape "
                        + java.util.Arrays.toString(geo.latentShape()) + " needs " + n);
            }
        } else if (noiseOverride != null) {
            latents = noiseOverride.clone();
        } else {
            latents = torch != null ? torch.randn(geo.latentShape()) : NormalNoise.sample(request.seed(), n);
        }
        float[] initialNoise = latents.clone();
        float sigma0 = scheduler.initNoiseSigma();
        for (int i = 0; i < n; i++) {
            latents[i] = latents[i] * sigma0;
        }
        NoiseSource noise = stepNoise != null ? stepNoise : drawNoise(request, torch);

        // 2b. Audio in: the source's latents, noised to where the schedule starts (strength), or kept
        // outside the mask at every step (inpainting, continuation).
        int start = 0;
        AudioIn.Source source = null;
        if (request.sourceAudio() != null) {
            listener.onStageStart("encode_audio");
            long ta = System.nanoTime();
            source = AudioIn.encode(this, request, geo);
            trace.record("source_latents", source.latents());
            stageDone("vae");
            listener.onStage("encode_audio", seconds(ta));
            if (request.strength() != null && request.strength() < 1.0) {
                start = AudioIn.startIndex(scheduler, steps, request.strength());
                latents = scheduler.addNoise(source.latents(), initialNoise, start);
            }
        }

        // 3. Denoising loop.
        listener.onStageStart("denoise");
        long t1 = System.nanoTime();
        int[] shape = geo.latentShape();
        Shape unetShape = Shape.of(cfg ? 2 * batch : batch, shape[1], shape[2], shape[3]);
        try (Scope scope = Scope.open()) {
            Tensor labels = backend.fromArray(classLabels, Shape.of(cfg ? 2 * batch : batch, projection));
            for (int k = start; k < timesteps.length; k++) {
                float[] scaled = scheduler.scaleModelInput(latents, k);
                float[] unetIn = cfg ? twice(scaled) : scaled;
                trace.record("unet." + k + ".sample", unetIn);
                float[] out;
                try (Scope step = Scope.open()) {
                    Tensor x = backend.fromArray(unetIn, unetShape);
                    out = m.unet().forward(x, (float) timesteps[k], null, labels).toFloatArray();
                }
                trace.record("unet." + k + ".out", out);
                float[] guided = cfg ? guide(out, n, (float) guidance) : out;
                trace.record("step." + k + ".model_output", guided);
                latents = scheduler.step(guided, k, latents, noise);
                if (source != null && source.mask() != null) {
                    // RePaint without resampling: the known region, noised to the next step's level.
                    latents = AudioIn.blend(latents, scheduler.addNoise(source.latents(), initialNoise, k + 1),
                            source.mask());
                }
                trace.record("step." + k + ".prev_sample", latents);
                checkFinite(latents, "latents after step " + (k + 1));
                if (!listener.onStep(k + 1 - start, timesteps.length - start)) {
                    throw new GenerationCancelledException(k + 1 - start, timesteps.length - start);
                }
            }
        }
        stageDone("unet");
        listener.onStage("denoise", seconds(t1));

        // 4. Latents to mel to waveform.
        listener.onStageStart("decode");
        long t2 = System.nanoTime();
        float invScale = (float) (1.0 / m.vae().scalingFactor().orElse(1.0));
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            z[i] = invScale * latents[i];
        }
        trace.record("vae_decode_in", z);
        float[] mel;
        int frames;
        int bins;
        try (Scope scope = Scope.open()) {
            Tensor decoded = m.vae().decodeTiled(backend.fromArray(z, Shape.of(shape)), VAE_TILING,
                    (done, total) -> listener.onStageProgress("decode", done, total));
            frames = decoded.dim(2);
            bins = decoded.dim(3);
            mel = decoded.toFloatArray();
            // Stays in the scope, so it is freed however the vocoder stage ends.
            Tensor melTensor = decoded.reshape(batch, frames, bins);
            checkFinite(mel, "mel spectrogram");
            trace.record("mel", mel);
            stageDone("vae");
            listener.onStage("decode", seconds(t2));

            listener.onStageStart("vocode");
            long t3 = System.nanoTime();
            float[] wave = m.vocoder().forwardChunked(melTensor, vocoderChunkFrames(m.vocoder()),
                    (done, total) -> listener.onStageProgress("vocode", done, total)).toFloatArray();
            trace.record("waveform_full", wave);
            int full = wave.length / batch;
            int keep = Math.min(geo.originalWaveformLength(), full);
            float[][] waveforms = new float[batch][];
            float[][] mels = new float[batch][];
            float[] cut = new float[batch * keep];
            for (int b = 0; b < batch; b++) {
                waveforms[b] = java.util.Arrays.copyOfRange(wave, b * full, b * full + keep);
                mels[b] = java.util.Arrays.copyOfRange(mel, b * frames * bins, (b + 1) * frames * bins);
                System.arraycopy(waveforms[b], 0, cut, b * keep, keep);
            }
            checkFinite(cut, "waveform");
            if (source != null && source.mask() != null) {
                // The kept region is the source's VAE round trip exactly; generated audio fades in over
                // 10 ms inside the mask.
                float[] roundTrip = AudioIn.roundTrip(this, source, geo);
                for (int b = 0; b < batch; b++) {
                    AudioIn.paste(waveforms[b], roundTrip, source, voc.samplingRate());
                    System.arraycopy(waveforms[b], 0, cut, b * keep, keep);
                }
            }
            trace.record("audio", cut);
            stageDone("vocoder");
            listener.onStage("vocode", seconds(t3));
            Map<String, String> settings = settings(request);
            if (scorer != null) {
                listener.onStageStart("rerank");
                long t4 = System.nanoTime();
                int[] order = rerank(scorer, request.prompts(), request.waveformsPerPrompt(), waveforms,
                        voc.samplingRate(), trace, settings);
                waveforms = pick(waveforms, order);
                mels = pick(mels, order);
                listener.onStage("rerank", seconds(t4));
            }
            settings.put("seconds", String.format(java.util.Locale.ROOT, "%.6g", keep / (double) voc.samplingRate()));
            return new GenerationResult(waveforms, mels, frames, bins, voc.samplingRate(), request.seed(), settings);
        }
    }

    // ------------------------------------------------------------ MusicLDM re-ranking

    /** Whether diffusers' pipeline for this model scores its outputs: MusicLDM with several waveforms per prompt. */
    boolean reranks(GenerationRequest request) {
        return model.family() == AudioModel.Family.MUSICLDM && request.waveformsPerPrompt() > 1;
    }

    /**
     * diffusers' MusicLDM {@code score_waveforms}: {@code logits_per_text [prompts, batch]} of every prompt against
     * every output, and per prompt the indices of its {@code perPrompt} best outputs out of the whole batch, best
     * first, concatenated (so with several prompts, as there, a prompt's list may include another prompt's outputs).
     * Records {@code rerank.logits_per_text} and {@code rerank.order}; puts the scores in {@code settings}.
     */
    static int[] rerank(ClapScorer scorer, List<String> prompts, int perPrompt, float[][] waveforms, int sampleRate,
            StepTrace trace, Map<String, String> settings) {
        float[][] logits = scorer.logitsPerText(prompts, java.util.Arrays.asList(waveforms), sampleRate);
        int[] order = new int[prompts.size() * perPrompt];
        float[] flat = new float[prompts.size() * waveforms.length];
        StringBuilder scores = new StringBuilder();
        for (int p = 0; p < prompts.size(); p++) {
            System.arraycopy(logits[p], 0, flat, p * waveforms.length, waveforms.length);
            int[] best = ClapScorer.bestFirst(logits[p]);
            for (int i = 0; i < perPrompt; i++) {
                order[p * perPrompt + i] = best[i];
                scores.append(scores.isEmpty() ? "" : " ")
                        .append(String.format(java.util.Locale.ROOT, "%.4f", logits[p][best[i]]));
            }
        }
        trace.record("rerank.logits_per_text", flat);
        float[] orderF = new float[order.length];
        for (int i = 0; i < order.length; i++) {
            orderF[i] = order[i];
        }
        trace.record("rerank.order", orderF);
        settings.put("clap_scores", scores.toString());
        return order;
    }

    private static float[][] pick(float[][] rows, int[] order) {
        float[][] out = new float[order.length][];
        for (int i = 0; i < order.length; i++) {
            out[i] = rows[order[i]];
        }
        return out;
    }

    // ------------------------------------------------------------ audio in: interpolation

    /**
     * Prompt interpolation: one waveform per point {@code t = i / (points - 1)}, {@code i = 0..points-1},
     * conditioned on the slerp of the two prompts' normalised text embeddings (renormalised, as the U-Net's
     * class labels always are), every point from the same noise (the request's seed). The negative prompt,
     * guidance, steps, sampler and length come from {@code request}, whose prompts are ignored. The
     * endpoints are exactly the plain generations of {@code from} and {@code to}.
     */
    public synchronized List<GenerationResult> interpolatePrompts(String from, String to, int points,
            GenerationRequest request, ProgressListener listener) {
        if (points < 2) {
            throw new IllegalArgumentException("interpolation needs at least 2 points (the two ends), got " + points);
        }
        if (request.sourceAudio() != null || request.waveformsPerPrompt() != 1 || request.prompts().size() != 1) {
            throw new IllegalArgumentException("prompt interpolation takes one prompt's request, one waveform, no"
                    + " source audio");
        }
        double guidance = request.guidanceScale() != null ? request.guidanceScale() : model.family().defaultGuidance();
        boolean cfg = guidance > 1.0;
        float[] a = encodePrompt(List.of(from), 1, cfg, request.negativePrompt());
        float[] b = encodePrompt(List.of(to), 1, cfg, request.negativePrompt());
        int width = a.length / (cfg ? 2 : 1);
        List<GenerationResult> out = new ArrayList<>();
        for (int i = 0; i < points; i++) {
            double t = i / (double) (points - 1);
            float[] labels = a.clone();
            // The unconditional row (with CFG) is the same in both; the conditional row is slerped.
            int at = cfg ? width : 0;
            float[] ca = java.util.Arrays.copyOfRange(a, at, at + width);
            float[] cb = java.util.Arrays.copyOfRange(b, at, at + width);
            float[] c = i == 0 ? ca : i == points - 1 ? cb : Slerp.normalised(ca, cb, t);
            System.arraycopy(c, 0, labels, at, width);
            out.add(run(request, listener, null, StepTrace.NONE, labels, null));
        }
        return out;
    }

    /**
     * Clip interpolation: both clips are encoded (posterior means) and inverted to noise with deterministic
     * DDIM under the request's prompt without guidance, the two noises are slerped at
     * {@code t = i / (points - 1)}, and each point is denoised with deterministic DDIM under the same prompt
     * and the request's guidance. With guidance 1 the endpoints are the clips' round trips up to the
     * inversion's error (see {@code AudioInTest}).
     */
    public synchronized List<GenerationResult> interpolateClips(org.euterpe.pipeline.audio.WavReader.Audio from,
            org.euterpe.pipeline.audio.WavReader.Audio to, int points, GenerationRequest request,
            ProgressListener listener) {
        if (points < 2) {
            throw new IllegalArgumentException("interpolation needs at least 2 points (the two ends), got " + points);
        }
        if (request.sourceAudio() != null || request.waveformsPerPrompt() != 1 || request.prompts().size() != 1) {
            throw new IllegalArgumentException("clip interpolation takes one prompt's request, one waveform, no"
                    + " source audio");
        }
        GenerationRequest ddim = GenerationRequest.builder(request.prompts().get(0))
                .negativePrompt(request.negativePrompt()).guidanceScale(request.guidanceScale() != null
                        ? request.guidanceScale() : model.family().defaultGuidance())
                .steps(request.steps() != null ? request.steps() : model.family().defaultSteps())
                .seconds(request.seconds() != null ? request.seconds() : Math.min(from.seconds(), to.seconds()))
                .seed(request.seed()).sampler(SamplerKind.DDIM).eta(0f).build();
        float[] na = invert(from, ddim, listener);
        float[] nb = invert(to, ddim, listener);
        List<GenerationResult> out = new ArrayList<>();
        for (int i = 0; i < points; i++) {
            double t = i / (double) (points - 1);
            float[] z = i == 0 ? na : i == points - 1 ? nb : Slerp.of(na, nb, t);
            out.add(run(ddim, listener, null, StepTrace.NONE, null, z));
        }
        return out;
    }

    /**
     * DDIM inversion of a clip to the noise the DDIM sampler (eta 0) would start from, under the request's
     * prompt without guidance: from the clean latents, step up through the timesteps in reverse,
     * {@code x_next = sqrt(a_next) x0_pred + sqrt(1 - a_next) eps}.
     */
    public synchronized float[] invert(org.euterpe.pipeline.audio.WavReader.Audio clip, GenerationRequest request,
            ProgressListener listener) {
        AudioModel m = model;
        HifiGanConfig voc = m.vocoder().config();
        LatentGeometry geo = LatentGeometry.of(request.seconds() != null ? request.seconds() : clip.seconds(), 1,
                m.unet().inChannels(), m.vae().vaeScaleFactor(), voc.modelInDim(), voc.upsampleRates(),
                voc.samplingRate(), m.unetSampleSize());
        int steps = request.steps() != null ? request.steps() : m.family().defaultSteps();
        SchedulerConfig config = SchedulerConfig.read(model.schedulerConfig(), SamplerKind.DDIM, Map.of());
        if (!config.predictionType().equals("epsilon")) {
            throw new IllegalArgumentException("DDIM inversion needs an epsilon-prediction model; this one predicts "
                    + config.predictionType());
        }
        Scheduler ddim = Scheduler.create(SamplerKind.DDIM, config);
        ddim.setTimesteps(steps);
        int stride = config.numTrainTimesteps() / steps;
        float finalAlpha = config.setAlphaToOne() ? 1f : ddim.alphasCumprod()[0];
        double[] ts = ddim.timesteps();
        float[] ac = ddim.alphasCumprod();
        float[] labels = encodePrompt(request.prompts(), 1, false, null);
        int projection = labels.length;
        float[] x = AudioIn.encodeLatents(m, clip, geo.height(), null);
        int[] shape = geo.latentShape();
        try (Scope scope = Scope.open()) {
            Tensor lab = m.backend().fromArray(labels, Shape.of(1, projection));
            for (int k = ts.length - 1; k >= 0; k--) {
                int t = (int) ts[k];
                // the sample is at the level DDIM's step at t lands on (t - stride, or the final alpha),
                // going up to t: the DDIM step run backwards
                int prev = t - stride;
                float aPrev = prev >= 0 ? ac[prev] : finalAlpha;
                float aT = ac[t];
                float[] eps;
                try (Scope step = Scope.open()) {
                    eps = m.unet().forward(m.backend().fromArray(x, Shape.of(shape)), prev >= 0 ? prev : 0, null, lab)
                            .toFloatArray();
                }
                float sp = (float) Math.sqrt(aPrev);
                float sbp = (float) Math.sqrt(1 - aPrev);
                float st = (float) Math.sqrt(aT);
                float sbt = (float) Math.sqrt(1 - aT);
                for (int i = 0; i < x.length; i++) {
                    float x0 = (x[i] - sbp * eps[i]) / sp;
                    x[i] = st * x0 + sbt * eps[i];
                }
                if (!listener.onStep(ts.length - k, ts.length)) {
                    throw new GenerationCancelledException(ts.length - k, ts.length);
                }
            }
        }
        stageDone("unet");
        return x;
    }

    /**
     * What {@code request} is estimated to need on this pipeline's model; {@code heapBytes} 0
     * means no heap check (device backends).
     */
    public ResourceEstimate estimate(GenerationRequest request) {
        AudioModel m = model;
        HifiGanConfig voc = m.vocoder().config();
        int batch = request.prompts().size() * request.waveformsPerPrompt();
        Double seconds = request.seconds() != null ? request.seconds() : AudioIn.defaultSeconds(request);
        LatentGeometry geo = LatentGeometry.of(seconds, batch, m.unet().inChannels(),
                m.vae().vaeScaleFactor(), voc.modelInDim(), voc.upsampleRates(), voc.samplingRate(),
                m.unetSampleSize());
        double guidance = request.guidanceScale() != null ? request.guidanceScale() : m.family().defaultGuidance();
        int steps = request.steps() != null ? request.steps() : m.family().defaultSteps();
        return estimate(request, geo, guidance > 1.0, steps);
    }

    private ResourceEstimate estimate(GenerationRequest request, LatentGeometry geo, boolean cfg, int steps) {
        SamplerKind sampler = request.sampler() != null ? request.sampler()
                : samplerOf(model.schedulerConfig().optString("_class_name", "DDIMScheduler"));
        return ResourceEstimate.of(model, geo, cfg, steps, sampler, heapChecked() ? heapBytes() : 0);
    }

    /** The Java heap activations may use: {@code euterpe.heap.bytes} if set (for tests), else -Xmx. */
    static long heapBytes() {
        return Long.getLong("euterpe.heap.bytes", Runtime.getRuntime().maxMemory());
    }

    /** Activations live on the heap for the CPU backends; devices keep theirs in device memory. */
    private boolean heapChecked() {
        String name = model.backend().name();
        return name.equals("cpu") || name.equals("scalar");
    }

    /**
     * Refuses, before anything runs, a request whose estimated peak does not fit the heap, with
     * both figures and a length (or heap) that would do; otherwise tells the listener the estimate.
     */
    private void checkMemory(GenerationRequest request, LatentGeometry geo, boolean cfg, int steps,
            ProgressListener listener) {
        ResourceEstimate e = estimate(request, geo, cfg, steps);
        if (!e.fits()) {
            long usable = (long) (ResourceEstimate.USABLE_HEAP * e.heapBytes());
            long neededHeap = (long) Math.ceil(e.peakBytes() / ResourceEstimate.USABLE_HEAP);
            StringBuilder msg = new StringBuilder(String.format(java.util.Locale.ROOT,
                    "a %.2f s clip%s needs about %s of memory (peak in %s, latent %s), more than the %s this"
                            + " Java heap (%s) can give it; ",
                    e.seconds(), e.latentShape()[0] > 1 ? " x " + e.latentShape()[0] : "",
                    ResourceEstimate.mib(e.peakBytes()), e.peakStage(),
                    java.util.Arrays.toString(e.latentShape()), ResourceEstimate.mib(usable),
                    ResourceEstimate.mib(e.heapBytes())));
            double fitting = longestFitting(request, cfg, steps);
            if (fitting > 0) {
                msg.append(String.format(java.util.Locale.ROOT, "at most about %.0f s fits%s, or ", Math.floor(fitting),
                        e.latentShape()[0] > 1 ? " at this --count" : ""));
            }
            msg.append("give Java a larger heap, e.g. -Xmx").append((neededHeap >> 30) + 1).append("g (")
                    .append("EUTERPE_JAVA_OPTS for ./euterpe) on a machine with that much free memory");
            throw new NotEnoughMemoryException(msg.toString(), e);
        }
        listener.onEstimate(e);
    }

    /** The longest clip, in seconds, whose estimate fits the heap, or 0 if none does. */
    private double longestFitting(GenerationRequest request, boolean cfg, int steps) {
        AudioModel m = model;
        HifiGanConfig voc = m.vocoder().config();
        int batch = request.prompts().size() * request.waveformsPerPrompt();
        double lo = 0;
        double hi = request.seconds() != null ? request.seconds() : 3600;
        for (int i = 0; i < 40; i++) {
            double mid = (lo + hi) / 2;
            boolean fits;
            try {
                LatentGeometry g = LatentGeometry.of(mid, batch, m.unet().inChannels(), m.vae().vaeScaleFactor(),
                        voc.modelInDim(), voc.upsampleRates(), voc.samplingRate(), m.unetSampleSize());
                fits = estimate(request, g, cfg, steps).fits();
            } catch (IllegalArgumentException tooShort) {
                fits = true; // below the model's minimum length: keep searching above it
            }
            if (fits) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo >= 1 ? lo : 0;
    }

    /**
     * The class labels the U-Net gets, as diffusers' {@code _encode_prompt}: each prompt's
     * normalised CLAP embedding repeated per waveform, preceded (with CFG) by the negative or
     * empty prompt's, which the reference tokenizes with max_length = the projection width.
     *
     * @return {@code [(cfg ? 2 : 1) * prompts * n, P]} row-major
     */
    public float[] encodePrompt(List<String> prompts, int n, boolean cfg, String negative) {
        BpeTokenizer tok = model.tokenizer();
        int projection = model.textEncoder().config().projectionDim();
        float[] cond = embed(prompts, tok.modelMaxLength());
        List<float[]> parts = new ArrayList<>();
        if (cfg) {
            // The same text for every prompt: embedded once, and once per pipeline (it is usually "").
            float[] uncond = uncondCache.computeIfAbsent(negative == null ? "" : negative,
                    text -> embed(List.of(text), projection));
            parts.add(repeatRows(uncond, 1, prompts.size() * n));
        }
        parts.add(repeatRows(cond, prompts.size(), n));
        int total = 0;
        for (float[] p : parts) {
            total += p.length;
        }
        float[] out = new float[total];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private float[] embed(List<String> texts, int maxLength) {
        BpeTokenizer tok = model.tokenizer();
        long[][] ids = new long[texts.size()][];
        long[][] mask = new long[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            Encoding e = tok.encode(texts.get(i), maxLength, true, true);
            ids[i] = e.inputIds();
            mask[i] = e.attentionMask();
        }
        try (Scope scope = Scope.open()) {
            return model.textEncoder().promptEmbeds(ids, mask).toFloatArray();
        }
    }

    /** Each of {@code rows} rows repeated {@code n} times in place (repeat_interleave order). */
    private static float[] repeatRows(float[] x, int rows, int n) {
        int width = x.length / rows;
        float[] out = new float[x.length * n];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < n; k++) {
                System.arraycopy(x, r * width, out, (r * n + k) * width, width);
            }
        }
        return out;
    }

    /** The sampler {@code request} runs with: its own, or the model's scheduler. */
    public SamplerKind samplerFor(GenerationRequest request) {
        return request.sampler() != null ? request.sampler()
                : samplerOf(model.schedulerConfig().optString("_class_name", "DDIMScheduler"));
    }

    /**
     * Refuses options the request's sampler would ignore, so no setting is silently dropped.
     *
     * @throws IllegalArgumentException naming the option and the sampler
     */
    public void check(GenerationRequest request) {
        if (request.prompts().isEmpty()) {
            throw new IllegalArgumentException("no prompt given (AudioLDM and MusicLDM are conditioned on text)");
        }
        if (reranks(request) && !model.hasClapAudioBranch()) {
            throw new IllegalArgumentException("MusicLDM re-ranks several waveforms per prompt with CLAP, but this"
                    + " model's text encoder has no CLAP audio branch or the model has no feature_extractor config;"
                    + " generate one waveform per prompt");
        }
        SamplerKind kind = samplerFor(request);
        if (request.eta() != 0 && kind != SamplerKind.DDIM) {
            throw new IllegalArgumentException("eta applies only to the ddim sampler; " + kind.cliName()
                    + " has none (choose ddim, or leave eta at 0)");
        }
        if (request.karras() && !kind.supportsKarras()) {
            throw new IllegalArgumentException("Karras sigmas apply to the " + SamplerKind.karrasNames()
                    + " samplers, not " + kind.cliName());
        }
    }

    /**
     * What {@code request} runs with, defaults resolved: the keys of a reproducible run
     * ({@code prompt}, {@code negative_prompt}, {@code seed}, {@code steps}, {@code guidance},
     * {@code sampler}, {@code karras}, {@code eta}, {@code noise}, {@code count}), in that order.
     */
    public Map<String, String> settings(GenerationRequest request) {
        Map<String, String> s = new java.util.LinkedHashMap<>();
        s.put("prompt", String.join(" | ", request.prompts()));
        s.put("negative_prompt", request.negativePrompt() == null ? "" : request.negativePrompt());
        s.put("seed", Long.toString(request.seed()));
        s.put("steps", Integer.toString(request.steps() != null ? request.steps() : model.family().defaultSteps()));
        s.put("guidance", Double.toString(request.guidanceScale() != null ? request.guidanceScale()
                : model.family().defaultGuidance()));
        s.put("sampler", samplerFor(request).cliName());
        s.put("karras", Boolean.toString(request.karras()));
        s.put("eta", Float.toString(request.eta()));
        s.put("noise", request.noise().name().toLowerCase(java.util.Locale.ROOT));
        s.put("count", Integer.toString(request.waveformsPerPrompt()));
        // Audio in: only when a source is given, so plain runs record what they always did.
        if (request.sourceAudio() != null) {
            var src = request.sourceAudio();
            s.put("source", String.format(java.util.Locale.ROOT, "%.4f s, %d Hz, %d channels", src.seconds(),
                    src.sampleRate(), src.channelCount()));
        }
        if (request.strength() != null) {
            s.put("strength", Double.toString(request.strength()));
        }
        if (request.mask() != null) {
            s.put("mask_start", Double.toString(request.mask().startSeconds()));
            s.put("mask_end", Double.toString(request.mask().endSeconds()));
        }
        return s;
    }

    private Scheduler scheduler(GenerationRequest request) {
        SamplerKind kind = samplerFor(request);
        Map<String, Object> overrides = request.karras() ? Map.of("use_karras_sigmas", true) : Map.of();
        Scheduler s = Scheduler.create(kind, SchedulerConfig.read(model.schedulerConfig(), kind, overrides));
        if (s instanceof DdimScheduler ddim) {
            ddim.setEta(request.eta());
        }
        return s;
    }

    /** The sampler for a diffusers scheduler class name. */
    public static SamplerKind samplerOf(String schedulerClass) {
        return switch (schedulerClass) {
            case "DDIMScheduler" -> SamplerKind.DDIM;
            case "PNDMScheduler" -> SamplerKind.PNDM;
            case "LMSDiscreteScheduler" -> SamplerKind.LMS;
            case "EulerDiscreteScheduler" -> SamplerKind.EULER;
            case "EulerAncestralDiscreteScheduler" -> SamplerKind.EULER_ANCESTRAL;
            case "HeunDiscreteScheduler" -> SamplerKind.HEUN;
            case "DPMSolverMultistepScheduler" -> SamplerKind.DPMPP_2M;
            case "UniPCMultistepScheduler" -> SamplerKind.UNIPC;
            default -> throw new IllegalArgumentException("unsupported scheduler class " + schedulerClass);
        };
    }

    /** Step noise from the request's seed: torch's generator continues after the latents. */
    private static NoiseSource drawNoise(GenerationRequest request, TorchGenerator torch) {
        if (torch != null) {
            return count -> torch.randn(count);
        }
        long[] draws = {0};
        return count -> NormalNoise.sample(request.seed() * 0x9E3779B97F4A7C15L + (++draws[0]), count);
    }

    private static float[] twice(float[] x) {
        float[] out = new float[2 * x.length];
        System.arraycopy(x, 0, out, 0, x.length);
        System.arraycopy(x, 0, out, x.length, x.length);
        return out;
    }

    /** {@code u + g * (c - u)} with u, c the two halves of the CFG batch, in float32 as the reference. */
    static float[] guide(float[] out, int n, float g) {
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            float u = out[i];
            float c = out[n + i];
            r[i] = u + g * (c - u);
        }
        return r;
    }

    private static void checkFinite(float[] x, String what) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                throw new IllegalStateException("the " + what + " contain NaN or infinity; stopping instead of "
                        + "writing a broken result");
            }
        }
    }

    /** {@code component} has done its part of this generation. */
    private void stageDone(String component) {
        residency.stageDone(model, component);
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    @Override
    public void close() {
        model.close();
    }
}
