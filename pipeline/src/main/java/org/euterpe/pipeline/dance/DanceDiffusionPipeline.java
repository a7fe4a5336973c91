package org.euterpe.pipeline.dance;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.euterpe.converter.Precision;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.dance.UNet1DConfig;
import org.euterpe.nn.dance.UNet1DModel;
import org.euterpe.pipeline.AudioPipeline;
import org.euterpe.pipeline.GenerationCancelledException;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationRequest.NoiseMode;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ModelFiles;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.StepTrace;
import org.euterpe.pipeline.noise.TorchGenerator;
import org.euterpe.pipeline.scheduler.IpndmScheduler;
import org.euterpe.pipeline.scheduler.VDiffusion;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.NormalNoise;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Storage;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.JsonObject;

/**
 * Harmonai's Dance Diffusion: an unconditional waveform model (no prompt) with three verbs.
 * <ul>
 *   <li>{@link #generate}: diffusers' {@code DanceDiffusionPipeline}: noise {@code [B, C, padded]},
 *       the IPNDM loop, clamp to [-1, 1], cut to the requested length;</li>
 *   <li>{@link #regenerate}: the notebook's "style transfer": the input noised to the largest crash
 *       time below the noise level, then denoised with v-DDIM (not clamped);</li>
 *   <li>{@link #interpolate}: both inputs inverted to noise with reverse v-DDIM, slerped per channel
 *       at each ratio, and each point denoised.</li>
 * </ul>
 * Audio arrays are flat {@code [batch, channels, length]}, row-major, at the model's rate
 * ({@link #sampleRate()}) and channel count. One generation at a time per pipeline.
 */
public final class DanceDiffusionPipeline implements AudioPipeline {
    /** {@code model_index.json}'s {@code _class_name} for this family. */
    public static final String PIPELINE_CLASS = "DanceDiffusionPipeline";
    /** diffusers' default {@code num_inference_steps}. */
    public static final int DEFAULT_STEPS = 100;

    private final UNet1DModel unet;
    private final Backend backend;
    private final Map<String, Set<DType>> weightDtypes;
    private final AutoCloseable weights;
    private final String kind;

    /**
     * A pipeline over an already built U-Net (random weights for benchmarks, say).
     *
     * @param weights closed with the pipeline (may be null)
     */
    public DanceDiffusionPipeline(UNet1DModel unet, Backend backend, Map<String, Set<DType>> weightDtypes,
            AutoCloseable weights, String kind) {
        this.unet = Objects.requireNonNull(unet, "unet");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.weightDtypes = weightDtypes;
        this.weights = weights;
        this.kind = kind;
    }

    /**
     * Loads a Dance Diffusion model: a diffusers folder ({@code model_index.json}, {@code unet/},
     * {@code scheduler/}) or a one-file model converted from one.
     *
     * @param precision for a folder, the weight precision to convert to in memory
     */
    public static DanceDiffusionPipeline load(Path path, Backend backend, Precision precision) throws IOException {
        ModelFiles files = ModelFiles.open(path, precision);
        try (Scope uploads = Scope.open()) {
            JsonObject index = files.json("model_index.json");
            String cls = index.getString("_class_name");
            if (!PIPELINE_CLASS.equals(cls)) {
                throw new ModelLoadException(path + ": model_index.json names " + cls + ", not " + PIPELINE_CLASS);
            }
            JsonObject scheduler = files.json("scheduler/scheduler_config.json");
            checkScheduler(scheduler);
            UNet1DModel unet = UNet1DModel.load(files.component("unet"), backend);
            List<Storage> uploaded = uploads.release();
            AutoCloseable weights = () -> {
                uploaded.forEach(Storage::close);
                files.close();
            };
            return new DanceDiffusionPipeline(unet, backend, Map.of("unet", files.dtypes("unet")), weights,
                    files.kind());
        } catch (RuntimeException e) {
            files.close();
            throw e;
        }
    }

    /** The schedule is computed, not configured: only diffusers' defaults are accepted. */
    private static void checkScheduler(JsonObject s) {
        String cls = s.getString("_class_name");
        if (!"IPNDMScheduler".equals(cls)) {
            throw new ModelLoadException(s.context() + ": scheduler " + cls + " is not supported for Dance Diffusion"
                    + " (IPNDMScheduler only)");
        }
        for (String key : s.map().keySet()) {
            switch (key) {
                case "_class_name", "_diffusers_version", "num_train_timesteps" -> {
                }
                case "trained_betas" -> {
                    if (s.raw(key) != null) {
                        throw new ModelLoadException(s.context() + ": trained_betas is not supported (the crash"
                                + " schedule is computed)");
                    }
                }
                default -> throw new ModelLoadException(s.context() + ": unknown scheduler config key \"" + key + "\"");
            }
        }
    }

    @Override
    public String pipelineClass() {
        return PIPELINE_CLASS;
    }

    @Override
    public boolean takesPrompts() {
        return false;
    }

    @Override
    public int defaultSteps() {
        return DEFAULT_STEPS;
    }

    /** "one file (f16)" or "folder converted in memory (...)", for logs. */
    public String kind() {
        return kind;
    }

    /** The dtypes of the U-Net's weights (for the conformance runner's SNR floors). */
    public Map<String, Set<DType>> weightDtypes() {
        return weightDtypes;
    }

    /**
     * The request API: {@code waveformsPerPrompt} outputs (no prompt: the model is unconditional),
     * {@code steps} IPNDM steps (default 100), {@code seconds} (default: the training window; any
     * legal length), noise from the seed ({@link NoiseMode#TORCH} reproduces diffusers exactly).
     * Guidance, negative prompts, other samplers and eta do not apply and are refused by name.
     */
    @Override
    public synchronized GenerationResult generate(GenerationRequest request, ProgressListener listener) {
        if (!request.prompts().isEmpty()) {
            throw new IllegalArgumentException("Dance Diffusion is unconditional: it takes no prompt (got "
                    + request.prompts().size() + "); use --count for several outputs");
        }
        if (request.negativePrompt() != null) {
            throw new IllegalArgumentException("Dance Diffusion takes no negative prompt");
        }
        if (request.guidanceScale() != null) {
            throw new IllegalArgumentException("Dance Diffusion has no guidance scale (no prompt to guide towards)");
        }
        if (request.sampler() != null) {
            throw new IllegalArgumentException("Dance Diffusion samples with its IPNDM scheduler; --sampler "
                    + request.sampler() + " is not available");
        }
        if (request.karras() || request.eta() != 0f) {
            throw new IllegalArgumentException("Dance Diffusion's IPNDM sampler has no Karras sigmas or eta");
        }
        int batch = request.waveformsPerPrompt();
        int steps = request.steps() != null ? request.steps() : DEFAULT_STEPS;
        DanceGeometry geo = geometry(request.seconds());
        int n = Math.multiplyExact(batch * channels(), geo.padded());
        float[] noise;
        if (request.initialLatents() != null) {
            noise = request.initialLatents();
            if (noise.length != n) {
                throw new IllegalArgumentException("initial noise has " + noise.length + " values, [" + batch + ", "
                        + channels() + ", " + geo.padded() + "] needs " + n);
            }
        } else {
            noise = request.noise() == NoiseMode.TORCH
                    ? new TorchGenerator(request.seed()).randn(batch, channels(), geo.padded())
                    : NormalNoise.sample(request.seed(), n);
        }
        listener.onStageStart("denoise");
        long t0 = System.nanoTime();
        Audio a = generate(batch, steps, geo, noise, listener, StepTrace.NONE);
        listener.onStage("denoise", (System.nanoTime() - t0) / 1e9);
        return result(a.audio(), batch, geo.original(), request.seed());
    }

    /** {@code [batch, channels, length]} planar audio as a result with interleaved frames. */
    public GenerationResult result(float[] planar, int batch, int length, long seed) {
        int c = channels();
        float[][] waves = new float[batch][];
        for (int b = 0; b < batch; b++) {
            waves[b] = interleave(planar, b, c, length);
        }
        return new GenerationResult(waves, new float[0][], 0, 0, sampleRate(), seed, c);
    }

    /** Item {@code b} of planar {@code [batch, c, length]} audio as interleaved frames. */
    public static float[] interleave(float[] planar, int b, int c, int length) {
        float[] out = new float[c * length];
        for (int ch = 0; ch < c; ch++) {
            int src = (b * c + ch) * length;
            for (int i = 0; i < length; i++) {
                out[i * c + ch] = planar[src + i];
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (weights != null) {
            try {
                weights.close();
            } catch (Exception ignored) {
                // closing a mapping cannot usefully fail
            }
        }
    }

    public UNet1DModel unet() {
        return unet;
    }

    public Backend backend() {
        return backend;
    }

    @Override
    public int sampleRate() {
        return unet.config().sampleRate();
    }

    @Override
    public int channels() {
        return unet.config().inChannels();
    }

    /** The length rule for {@code seconds} (null: the training window). */
    public DanceGeometry geometry(Double seconds) {
        UNet1DConfig c = unet.config();
        return DanceGeometry.of(seconds, c.sampleRate(), c.sampleSize(), c.downScaleFactor());
    }

    /** The generated audio, clamped and cut, and the unclipped final sample. */
    public record Audio(float[] audio, int batch, int channels, int length, float[] finalSample, int padded) {
    }

    /**
     * diffusers' pipeline call.
     *
     * @param noise {@code [batch, channels, geometry.padded()]}: the initial sample, drawn by the caller
     *              (one {@code torch.randn} of that shape in the reference)
     * @param trace receives {@code noise_in}, {@code unet.K.out}, {@code step.K.prev_sample},
     *              {@code audio_full} and {@code audio}
     */
    public synchronized Audio generate(int batch, int steps, DanceGeometry geo, float[] noise,
            ProgressListener listener, StepTrace trace) {
        int c = channels();
        if (batch < 1) {
            throw new IllegalArgumentException("count must be >= 1, got " + batch);
        }
        if (noise.length != (long) batch * c * geo.padded()) {
            throw new IllegalArgumentException("noise has " + noise.length + " values, [" + batch + ", " + c + ", "
                    + geo.padded() + "] needs " + (long) batch * c * geo.padded());
        }
        IpndmScheduler scheduler = new IpndmScheduler();
        scheduler.setTimesteps(steps);
        float[] t = scheduler.timesteps();
        float[] x = noise.clone();
        trace.record("noise_in", x);
        for (int k = 0; k < t.length; k++) {
            float[] v = velocity(x, batch, geo.padded(), new float[] {t[k]});
            trace.record("unet." + k + ".out", v);
            x = scheduler.step(v, x);
            trace.record("step." + k + ".prev_sample", x);
            checkFinite(x, "sample after step " + (k + 1));
            progress(listener, k + 1, t.length);
        }
        float[] full = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            full[i] = Math.max(-1f, Math.min(1f, x[i]));
        }
        trace.record("audio_full", full);
        float[] audio = cut(full, batch * c, geo.padded(), geo.original());
        trace.record("audio", audio);
        return new Audio(audio, batch, c, geo.original(), x, geo.padded());
    }

    /** The warped start time and the descending times of {@link #regenerate}. */
    public record RegenerateSchedule(float[] tLinear, float[] crash, float startT, float startAlpha, float startSigma,
            float[] steps) {
    }

    /**
     * The notebook's schedule for a noise level: the crash times of {@code linspace(0, 1, total + 1)}
     * strictly below {@code noiseLevel}; the largest is the start, and every kept time above 0 is a
     * U-Net call, descending.
     */
    public static RegenerateSchedule regenerateSchedule(float noiseLevel, int total) {
        if (!(noiseLevel > 0f && noiseLevel <= 1f)) {
            throw new IllegalArgumentException("noise level must be in (0, 1], got " + noiseLevel);
        }
        if (total < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + total);
        }
        float[] t = VDiffusion.linspace(0f, 1f, total + 1);
        float[] crash = VDiffusion.crashSchedule(t);
        int keep = 0;
        while (keep < crash.length && crash[keep] < noiseLevel) {
            keep++;
        }
        // crash[0] is 0, below any legal level, so keep >= 1
        float start = crash[keep - 1];
        float[] steps = new float[keep - 1];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = crash[keep - 1 - i];
        }
        float alpha = VDiffusion.alphas(new float[] {start})[0];
        float sigma = VDiffusion.sigmas(new float[] {start})[0];
        return new RegenerateSchedule(t, crash, start, alpha, sigma, steps);
    }

    /**
     * Regenerates audio: {@code input * alpha0 + noise * sigma0} at the schedule's start, then
     * v-DDIM down to 0. With no kept time above 0 (a tiny noise level) the input comes back.
     *
     * @param input {@code [batch, channels, length]}, length legal for the U-Net
     * @param noise same shape
     * @param trace receives {@code noised}, {@code unet.K.out}, {@code step.K.prev_sample}, {@code out}
     * @return {@code [batch, channels, length]}, not clamped
     */
    public synchronized float[] regenerate(float[] input, float[] noise, int batch, int length, float noiseLevel,
            int totalSteps, ProgressListener listener, StepTrace trace) {
        checkAudio(input, batch, length, "input");
        checkAudio(noise, batch, length, "noise");
        RegenerateSchedule s = regenerateSchedule(noiseLevel, totalSteps);
        float[] x = new float[input.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = input[i] * s.startAlpha() + noise[i] * s.startSigma();
        }
        trace.record("noised", x);
        float[] out = sample(x, batch, length, s.steps(), listener, trace);
        trace.record("out", out);
        return out;
    }

    /**
     * v-DDIM from {@code steps[0]} down to the last step: returns the last clean estimate
     * ({@code sampling.sample} with eta 0); {@code x} itself when there are no steps.
     */
    float[] sample(float[] x, int batch, int length, float[] steps, ProgressListener listener, StepTrace trace) {
        float[] alphas = VDiffusion.alphas(steps);
        float[] sigmas = VDiffusion.sigmas(steps);
        float[] pred = x;
        for (int i = 0; i < steps.length; i++) {
            float[] v = velocity(x, batch, length, fill(batch, steps[i]));
            trace.record("unet." + i + ".out", v);
            if (i < steps.length - 1) {
                x = VDiffusion.step(x, v, alphas[i], sigmas[i], alphas[i + 1], sigmas[i + 1]);
                trace.record("step." + i + ".prev_sample", x);
                checkFinite(x, "sample after step " + (i + 1));
            } else {
                pred = VDiffusion.pred(x, v, alphas[i], sigmas[i]);
            }
            progress(listener, i + 1, steps.length);
        }
        return pred;
    }

    /**
     * Reverse v-DDIM: from the clean input at time 0 up the crash times of
     * {@code linspace(0, 1, steps + 1)} to noise at time 1 ({@code steps} U-Net calls).
     */
    float[] invert(float[] x, int batch, int length, float[] times, ProgressListener listener, StepTrace trace) {
        float[] alphas = VDiffusion.alphas(times);
        float[] sigmas = VDiffusion.sigmas(times);
        for (int i = 0; i < times.length - 1; i++) {
            float[] v = velocity(x, batch, length, fill(batch, times[i]));
            trace.record("unet." + i + ".out", v);
            x = VDiffusion.step(x, v, alphas[i], sigmas[i], alphas[i + 1], sigmas[i + 1]);
            trace.record("step." + i + ".prev_sample", x);
            checkFinite(x, "inverted sample after step " + (i + 1));
            progress(listener, i + 1, 2 * (times.length - 1));
        }
        return x;
    }

    /** What {@link #interpolate} computed. */
    public record Interpolation(float[] inverted, float[] cosOmega, float[] omega, float[][] a, float[][] b,
            float[] slerped, float[] out) {
    }

    /**
     * Interpolates between two clips: reverse v-DDIM of both (batch 2), a per-channel slerp of the
     * two noises at every ratio, and v-DDIM of the {@code ratios.length} points.
     *
     * @param clips {@code [2, channels, length]}: clip A then clip B
     * @param trace receives {@code reverse.*}, {@code inverted}, {@code slerped}, {@code forward.*},
     *              {@code out}
     * @return the points {@code [ratios.length, channels, length]} in {@link Interpolation#out()}
     */
    public synchronized Interpolation interpolate(float[] clips, int length, float[] ratios, int steps,
            ProgressListener listener, StepTrace trace) {
        checkAudio(clips, 2, length, "clips");
        if (ratios.length < 1) {
            throw new IllegalArgumentException("interpolation needs at least one point");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        int c = channels();
        float[] reverse = VDiffusion.crashSchedule(VDiffusion.linspace(0f, 1f, steps + 1));
        float[] inverted = invert(clips, 2, length, reverse, listener, prefixed(trace, "reverse."));
        trace.record("inverted", inverted);
        Interpolation points = slerp(inverted, c, length, ratios);
        float[] slerped = points.slerped();
        trace.record("slerped", slerped);
        float[] lin = VDiffusion.linspace(1f, 0f, steps + 1);
        float[] forward = VDiffusion.crashSchedule(Arrays.copyOf(lin, steps));
        ProgressListener second = new ProgressListener() {
            @Override
            public boolean onStep(int step, int total) {
                return listener.onStep(steps + step, 2 * steps);
            }
        };
        float[] out = sample(slerped, ratios.length, length, forward, second, prefixed(trace, "forward."));
        trace.record("out", out);
        return new Interpolation(inverted, points.cosOmega(), points.omega(), points.a(), points.b(), slerped, out);
    }

    /**
     * The notebook's slerp, per channel: for the two inverted rows {@code l1, l2} of a channel,
     * {@code omega = acos(l1 . l2 / (|l1| |l2|))} and point j is
     * {@code sin((1 - ratio_j) omega) / sin(omega) l1 + sin(ratio_j omega) / sin(omega) l2} (float32
     * as the reference, with {@code sin(omega)} computed in float64 and rounded).
     *
     * @param inverted {@code [2, c, length]}
     * @return cos omega, omega, a and b per channel, and the points {@code [ratios, c, length]}
     *         (no {@code out})
     */
    public static Interpolation slerp(float[] inverted, int c, int length, float[] ratios) {
        int r = ratios.length;
        float[] cosOmega = new float[c];
        float[] omega = new float[c];
        float[][] a = new float[c][r];
        float[][] b = new float[c][r];
        float[] slerped = new float[r * c * length];
        for (int ch = 0; ch < c; ch++) {
            int o1 = ch * length;
            int o2 = (c + ch) * length;
            double dot = 0;
            double n1 = 0;
            double n2 = 0;
            for (int i = 0; i < length; i++) {
                float p = inverted[o1 + i];
                float q = inverted[o2 + i];
                dot += (double) p * q;
                n1 += (double) p * p;
                n2 += (double) q * q;
            }
            cosOmega[ch] = (float) dot / ((float) Math.sqrt(n1) * (float) Math.sqrt(n2));
            omega[ch] = (float) Math.acos(cosOmega[ch]);
            float w = omega[ch];
            float sinW = (float) Math.sin(w);
            if (!(sinW != 0f)) {
                throw new IllegalArgumentException("the two inputs invert to parallel noises in channel " + ch
                        + " (omega = " + w + "): there is nothing to interpolate between");
            }
            for (int j = 0; j < r; j++) {
                float lambda = ratios[j];
                a[ch][j] = (float) Math.sin((1f - lambda) * w) / sinW;
                b[ch][j] = (float) Math.sin(lambda * w) / sinW;
                int dst = (j * c + ch) * length;
                for (int i = 0; i < length; i++) {
                    slerped[dst + i] = a[ch][j] * inverted[o1 + i] + b[ch][j] * inverted[o2 + i];
                }
            }
        }
        return new Interpolation(inverted, cosOmega, omega, a, b, slerped, null);
    }

    /** One U-Net call: the v-prediction for {@code x [batch, channels, length]} at {@code t}. */
    private float[] velocity(float[] x, int batch, int length, float[] t) {
        try (Scope scope = Scope.open()) {
            Tensor in = backend.fromArray(x, Shape.of(batch, channels(), length));
            return unet.forward(in, t).toFloatArray();
        }
    }

    private void checkAudio(float[] x, int batch, int length, String what) {
        long n = (long) batch * channels() * length;
        if (x.length != n) {
            throw new IllegalArgumentException(what + " has " + x.length + " values, [" + batch + ", " + channels()
                    + ", " + length + "] needs " + n);
        }
        checkFinite(x, what);
    }

    private static float[] fill(int n, float v) {
        float[] out = new float[n];
        Arrays.fill(out, v);
        return out;
    }

    /** Rows of {@code full} (each {@code from} long) cut to their first {@code to} values. */
    static float[] cut(float[] full, int rows, int from, int to) {
        if (from == to) {
            return full;
        }
        float[] out = new float[rows * to];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(full, r * from, out, r * to, to);
        }
        return out;
    }

    private static void progress(ProgressListener listener, int step, int total) {
        if (!listener.onStep(step, total)) {
            throw new GenerationCancelledException(step, total);
        }
    }

    private static void checkFinite(float[] x, String what) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                throw new IllegalStateException(what + " is not finite (NaN or infinity): the weights or the input"
                        + " are broken");
            }
        }
    }

    private static StepTrace prefixed(StepTrace trace, String prefix) {
        return trace == StepTrace.NONE ? StepTrace.NONE : (name, value) -> trace.record(prefix + name, value);
    }

}
