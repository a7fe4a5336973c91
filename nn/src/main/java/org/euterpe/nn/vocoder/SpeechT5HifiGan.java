package org.euterpe.nn.vocoder;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.PartProgress;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.nn.layers.ConvTranspose1d;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * The HiFi-GAN vocoder of AudioLDM / MusicLDM (transformers' {@code SpeechT5HifiGan}): a mel
 * spectrogram to a waveform through conv_pre, transposed-convolution upsamplers each followed
 * by the mean of its residual blocks, and conv_post with tanh.
 *
 * <p>Checkpoints hold plain convolution weights (weight norm removed), which is what is loaded.
 */
public final class SpeechT5HifiGan {
    /** torch's default negative slope, which the reference uses before conv_post (not the config's). */
    private static final float DEFAULT_LEAKY_SLOPE = 0.01f;

    private final HifiGanConfig config;
    private final Tensor mean;
    private final Tensor scale;
    private final Conv1d convPre;
    private final List<ConvTranspose1d> upsamplers;
    private final List<List<HifiGanResidualBlock>> resblocks; // per upsampler, one per kernel size
    private final Conv1d convPost;

    private SpeechT5HifiGan(HifiGanConfig config, Tensor mean, Tensor scale, Conv1d convPre,
            List<ConvTranspose1d> upsamplers, List<List<HifiGanResidualBlock>> resblocks, Conv1d convPost) {
        this.config = config;
        this.mean = mean;
        this.scale = scale;
        this.convPre = convPre;
        this.upsamplers = upsamplers;
        this.resblocks = resblocks;
        this.convPost = convPost;
    }

    /**
     * Loads {@code vocoder/} of a pipeline folder onto {@code backend}. On CPU backends the weights
     * are views of the mapped file: keep {@code files} open while the model is used.
     */
    public static SpeechT5HifiGan load(ComponentFiles files, Backend backend) {
        return load(files.weights(backend), files.config());
    }

    /** Builds the vocoder from a config (read strictly) and its weights (all must be used). */
    public static SpeechT5HifiGan load(Weights w, Config config) {
        HifiGanConfig c = HifiGanConfig.read(config);
        int mels = c.modelInDim();
        Tensor mean = null;
        Tensor scale = null;
        if (c.normalizeBefore()) {
            mean = w.get("mean", mels);
            scale = w.get("scale", mels);
        } else {
            // registered buffers, saved even when the config does not apply them
            w.ignore("mean");
            w.ignore("scale");
        }
        Conv1d convPre = Conv1d.load(w.child("conv_pre"), mels, c.upsampleInitialChannel(), 7, 1, 3, 1);
        List<ConvTranspose1d> upsamplers = new ArrayList<>();
        List<List<HifiGanResidualBlock>> resblocks = new ArrayList<>();
        int kernels = c.resblockKernelSizes().length;
        int channels = c.upsampleInitialChannel();
        for (int i = 0; i < c.upsampleRates().length; i++) {
            int out = c.channelsAfter(i);
            int k = c.upsampleKernelSizes()[i];
            int u = c.upsampleRates()[i];
            upsamplers.add(ConvTranspose1d.load(w.child("upsampler", i), channels, out, k, u, (k - u) / 2));
            List<HifiGanResidualBlock> blocks = new ArrayList<>();
            for (int j = 0; j < kernels; j++) {
                blocks.add(HifiGanResidualBlock.load(w.child("resblocks", i * kernels + j), out,
                        c.resblockKernelSizes()[j], c.resblockDilations()[j], c.leakyReluSlope()));
            }
            resblocks.add(List.copyOf(blocks));
            channels = out;
        }
        Conv1d convPost = Conv1d.load(w.child("conv_post"), channels, 1, 7, 1, 3, 1);
        w.checkAllUsed();
        return new SpeechT5HifiGan(c, mean, scale, convPre, List.copyOf(upsamplers), List.copyOf(resblocks),
                convPost);
    }

    public HifiGanConfig config() {
        return config;
    }

    /** {@code mel [batch, frames, model_in_dim] -> waveform [batch, frames * hopLength']}. */
    public Tensor forward(Tensor mel) {
        return forward(mel, Trace.NONE);
    }

    /** One stage: leaky ReLU, upsampler {@code i}, then the mean of its residual blocks. */
    private Tensor upsample(int i, Tensor x, Trace trace) {
        try (Scope scope = Scope.open()) {
            // Intermediates are closed as soon as they are used, as in HifiGanResidualBlock.
            Tensor up;
            try (Tensor a = x.leakyRelu(config.leakyReluSlope())) {
                up = upsamplers.get(i).forward(a);
            }
            trace.record("upsampler." + i, up);
            List<HifiGanResidualBlock> blocks = resblocks.get(i);
            Tensor sum = blocks.get(0).forward(up);
            for (int j = 1; j < blocks.size(); j++) {
                try (Tensor prev = sum; Tensor b = blocks.get(j).forward(up)) {
                    sum = prev.add(b);
                }
            }
            up.close();
            try (Tensor total = sum) {
                return scope.keep(total.div(blocks.size()));
            }
        }
    }

    /**
     * As {@link #forward(Tensor)}; {@code trace} receives {@code conv_pre}, {@code upsampler.N}
     * (before its residual blocks) and {@code conv_post} (before tanh).
     *
     * @param mel {@code [batch, frames, model_in_dim]} (time before mel bins, as the pipelines
     *            pass it)
     * @return {@code [batch, samples]}
     */
    public Tensor forward(Tensor mel, Trace trace) {
        if (mel.rank() != 3 || mel.dim(2) != config.modelInDim()) {
            throw new IllegalArgumentException("vocoder input " + mel.shape() + " should be [batch, frames, "
                    + config.modelInDim() + "]");
        }
        try (Scope scope = Scope.open()) {
            Tensor x = mel;
            if (config.normalizeBefore()) {
                x = x.sub(mean).div(scale);
            }
            x = convPre.forward(x.transpose(1, 2));
            trace.record("conv_pre", x);
            for (int i = 0; i < upsamplers.size(); i++) {
                Tensor next = upsample(i, x, trace);
                x.close(); // conv_pre's or the previous stage's output: no longer needed
                x = next;
            }
            x = convPost.forward(x.leakyRelu(DEFAULT_LEAKY_SLOPE));
            trace.record("conv_post", x);
            Tensor waveform = x.tanh();
            return scope.keep(waveform.reshape(waveform.dim(0), waveform.dim(2)));
        }
    }

    // ---------------------------------------------------------------- long inputs in chunks

    /**
     * Mel frames on either side of a frame that can change its output samples: the receptive
     * field's radius, rounded up, plus one frame of slack. Summed over the layers in frames:
     * conv_pre's 3, each upsampler's {@code ceil(k / u)} input samples and its residual blocks'
     * widest span ({@code sum over dilations of (k - 1) / 2 * (d + 1)} samples at that stage's
     * rate), conv_post's 3 output samples. audioldm-s-full-v2: 26 + 1 = 27 frames.
     */
    public int receptiveFieldFrames() {
        double frames = 3;
        double rate = 1; // samples per mel frame before upsampler i
        for (int i = 0; i < config.upsampleRates().length; i++) {
            int u = config.upsampleRates()[i];
            int k = config.upsampleKernelSizes()[i];
            frames += Math.ceil((double) k / u) / rate;
            rate *= u;
            int widest = 0;
            for (int j = 0; j < config.resblockKernelSizes().length; j++) {
                int half = (config.resblockKernelSizes()[j] - 1) / 2;
                int span = 0;
                for (int d : config.resblockDilations()[j]) {
                    span += half * d + half;
                }
                widest = Math.max(widest, span);
            }
            frames += widest / rate;
        }
        frames += 3 / rate;
        return (int) Math.ceil(frames) + 1;
    }

    /**
     * Samples the vocoder gives for {@code frames} mel frames: each upsampler maps {@code L}
     * samples to {@code (L - 1) u - 2 floor((k - u) / 2) + k}, i.e. {@code u L} plus 1 when
     * {@code k - u} is odd (audioldm-s-full-v2's first upsampler, k 16 and u 5), so the waveform is
     * {@code frames * hopLength()} plus a constant tail (32 samples there) that the pipelines cut.
     */
    public long outputSamples(long frames) {
        long len = frames;
        for (int i = 0; i < config.upsampleRates().length; i++) {
            int u = config.upsampleRates()[i];
            int k = config.upsampleKernelSizes()[i];
            len = (len - 1) * u - 2L * ((k - u) / 2) + k;
        }
        return len;
    }

    /**
     * As {@link #forward(Tensor)}, in chunks of about {@code chunkFrames} frames when the mel is
     * longer than that, so the activations are those of one chunk, not of the whole clip.
     *
     * <p>Why it is exact: the network is convolutional, so an output sample depends only on the
     * frames within {@link #receptiveFieldFrames()} of its own. Each chunk is run with that many
     * frames of context on either side (fewer at the clip's ends, where the whole-clip run pads
     * with zeros exactly as the chunk's does), and only its core's samples are kept. The result
     * differs from the one-piece run by float rounding only (kernels may group the sums
     * differently at another offset). Shifting the mel by one frame shifts the waveform by
     * exactly {@code hopLength()} samples, so chunk samples map to clip samples by an offset; the
     * tail past {@code frames * hopLength()} (see {@link #outputSamples}) comes from the last chunk,
     * which ends where the clip does.
     *
     * @param mel         {@code [batch, frames, model_in_dim]}
     * @param chunkFrames the longest core; chunks split the frames evenly
     * @return {@code [batch, outputSamples(frames)]}, as {@link #forward(Tensor)}
     */
    public Tensor forwardChunked(Tensor mel, int chunkFrames, PartProgress progress) {
        if (chunkFrames < 1) {
            throw new IllegalArgumentException("chunk length must be at least 1 frame, got " + chunkFrames);
        }
        int frames = mel.rank() == 3 ? mel.dim(1) : 0;
        if (frames <= chunkFrames) {
            return forward(mel);
        }
        int batch = mel.dim(0);
        int hop = config.hopLength();
        int chunks = (frames + chunkFrames - 1) / chunkFrames;
        int core = (frames + chunks - 1) / chunks;
        int margin = receptiveFieldFrames();
        long total = outputSamples(frames);
        int tail = Math.toIntExact(total - (long) frames * hop);
        float[] out = new float[Math.toIntExact(batch * total)];
        for (int c = 0; c < chunks; c++) {
            int a = c * core;
            int b = Math.min(frames, a + core);
            int lo = Math.max(0, a - margin);
            int hi = Math.min(frames, b + margin);
            float[] wave;
            try (Scope scope = Scope.open()) {
                wave = forward(mel.slice(1, lo, hi)).toFloatArray();
            }
            int len = (hi - lo) * hop + tail;
            if (wave.length != batch * len) {
                throw new IllegalStateException("vocoder chunk of " + (hi - lo) + " frames gave " + wave.length / batch
                        + " samples, expected " + len);
            }
            for (int n = 0; n < batch; n++) {
                System.arraycopy(wave, n * len + (a - lo) * hop, out, Math.toIntExact(n * total + (long) a * hop),
                        (b - a) * hop + (b == frames ? tail : 0));
            }
            progress.partDone(c + 1, chunks);
        }
        return mel.backend().fromArray(out, Shape.of(batch, Math.toIntExact(total)));
    }
}
