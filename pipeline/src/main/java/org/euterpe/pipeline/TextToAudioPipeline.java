package org.euterpe.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import org.euterpe.nn.vae.AutoencoderKL;
import org.euterpe.nn.vocoder.HifiGanConfig;
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
public final class TextToAudioPipeline implements AutoCloseable {
    /**
     * How a long latent is decoded: in tiles of at most 512 latent frames (20.48 s at AudioLDM's
     * and MusicLDM's 100 mel frames per second and VAE factor 4) overlapping by 48 frames, of which
     * 16 are cross-faded. Shorter latents are decoded in one piece, exactly as before. Fixed, not
     * sized by the heap, so a request gives the same audio on every machine.
     */
    public static final AutoencoderKL.Tiling VAE_TILING = new AutoencoderKL.Tiling(512, 16, 16);

    /**
     * Mel frames per vocoder chunk: mels up to this long (10.24 s at 100 frames per second) are
     * vocoded in one piece; longer ones in even chunks of at most this many, each with its
     * receptive field of context on either side.
     */
    public static final int VOCODER_CHUNK_FRAMES = 1024;

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

    /** Generates audio for {@code request}. */
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
        AudioModel m = model;
        Backend backend = m.backend();
        HifiGanConfig voc = m.vocoder().config();
        int batch = request.prompts().size() * request.waveformsPerPrompt();
        LatentGeometry geo = LatentGeometry.of(request.seconds(), batch, m.unet().inChannels(),
                m.vae().vaeScaleFactor(), voc.modelInDim(), voc.upsampleRates(), voc.samplingRate(),
                m.unetSampleSize());
        double guidance = request.guidanceScale() != null ? request.guidanceScale() : m.family().defaultGuidance();
        int steps = request.steps() != null ? request.steps() : m.family().defaultSteps();
        boolean cfg = guidance > 1.0;
        checkMemory(request, geo, cfg, steps, listener);

        // 1. Text conditioning.
        listener.onStageStart("encode");
        long t0 = System.nanoTime();
        float[] classLabels = encodePrompt(request.prompts(), request.waveformsPerPrompt(), cfg,
                request.negativePrompt());
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
        } else {
            latents = torch != null ? torch.randn(geo.latentShape()) : NormalNoise.sample(request.seed(), n);
        }
        float sigma0 = scheduler.initNoiseSigma();
        for (int i = 0; i < n; i++) {
            latents[i] = latents[i] * sigma0;
        }
        NoiseSource noise = stepNoise != null ? stepNoise : drawNoise(request, torch);

        // 3. Denoising loop.
        listener.onStageStart("denoise");
        long t1 = System.nanoTime();
        int[] shape = geo.latentShape();
        Shape unetShape = Shape.of(cfg ? 2 * batch : batch, shape[1], shape[2], shape[3]);
        try (Scope scope = Scope.open()) {
            Tensor labels = backend.fromArray(classLabels, Shape.of(cfg ? 2 * batch : batch, projection));
            for (int k = 0; k < timesteps.length; k++) {
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
                trace.record("step." + k + ".prev_sample", latents);
                checkFinite(latents, "latents after step " + (k + 1));
                if (!listener.onStep(k + 1, timesteps.length)) {
                    throw new GenerationCancelledException(k + 1, timesteps.length);
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
            float[] wave = m.vocoder().forwardChunked(melTensor, VOCODER_CHUNK_FRAMES,
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
            trace.record("audio", cut);
            stageDone("vocoder");
            listener.onStage("vocode", seconds(t3));
            return new GenerationResult(waveforms, mels, frames, bins, voc.samplingRate(), request.seed());
        }
    }

    /**
     * What {@code request} is estimated to need on this pipeline's model; {@code heapBytes} 0
     * means no heap check (device backends).
     */
    public ResourceEstimate estimate(GenerationRequest request) {
        AudioModel m = model;
        HifiGanConfig voc = m.vocoder().config();
        int batch = request.prompts().size() * request.waveformsPerPrompt();
        LatentGeometry geo = LatentGeometry.of(request.seconds(), batch, m.unet().inChannels(),
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

    private Scheduler scheduler(GenerationRequest request) {
        SamplerKind kind = request.sampler() != null ? request.sampler()
                : samplerOf(model.schedulerConfig().optString("_class_name", "DDIMScheduler"));
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
