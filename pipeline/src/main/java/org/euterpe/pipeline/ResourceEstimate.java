package org.euterpe.pipeline;

import java.util.Locale;

import org.euterpe.nn.unet.UNet2DConditionModel;
import org.euterpe.nn.vae.AutoencoderKL;
import org.euterpe.nn.vocoder.HifiGanConfig;
import org.euterpe.pipeline.scheduler.SamplerKind;

/**
 * What a generation is estimated to need, worked out from the model's shape and the request's
 * length before anything runs: the activation memory of each stage's peak and its floating-point
 * work. {@link TextToAudioPipeline#generate} refuses, with {@link NotEnoughMemoryException}, a
 * request whose peak will not fit in the Java heap, instead of dying with an
 * {@code OutOfMemoryError} part way through.
 *
 * <p>How: each stage's live set at its peak is counted from its structure, in floats per
 * position of its largest resolution (see {@link #unetBytes}, {@link #vaeBytes},
 * {@link #vocoderBytes}); attention on the CPU is flash-style (blocks of keys, never the
 * {@code L x L} score matrix), so its memory is linear in the sequence too, and only its time is
 * quadratic. A tiled VAE decode and a chunked vocode count one tile or chunk, plus the whole
 * clip's output arrays. Weights are memory-mapped (outside the heap) on the CPU backends and
 * not counted. The count was checked against runs under a fixed {@code -Xmx}: see RELIABILITY.md.
 *
 * @param seconds        the clip length
 * @param latentShape    {@code [batch, channels, frames, width]} of one U-Net input half (no CFG doubling)
 * @param unetBatch      the U-Net's batch: twice the waveforms with classifier-free guidance
 * @param unetCalls      U-Net calls: the steps, twice for Heun's second order
 * @param unetBytes      heap at the peak of one U-Net call
 * @param vaeBytes       heap at the peak of the decode (one tile when tiled)
 * @param vocoderBytes   heap at the peak of the vocode (one chunk when chunked)
 * @param clipBytes      the arrays of the whole clip held across stages (latents, mel, waveforms)
 * @param unetFlops      work of one U-Net call, of which {@code unetAttentionFlops} is the
 *                       self-attention's score and value products (quadratic in the length)
 * @param vaeFlops       work of the decode (all tiles)
 * @param vocoderFlops   work of the vocode (all chunks)
 * @param vaeTiles       tiles of the decode (1: one piece)
 * @param vocoderChunks  chunks of the vocode (1: one piece)
 * @param heapBytes      the heap this estimate is checked against ({@code Runtime.maxMemory()}),
 *                       or 0 when the activations live on a device (OpenCL, CUDA) and are not checked
 */
public record ResourceEstimate(double seconds, int[] latentShape, int unetBatch, int unetCalls, long unetBytes,
        long vaeBytes, long vocoderBytes, long clipBytes, double unetFlops, double unetAttentionFlops,
        double vaeFlops, double vocoderFlops, int vaeTiles, int vocoderChunks, long heapBytes) {

    /**
     * Share of the heap the activations may use: the rest is for the JVM's own heap objects, the
     * model's small tensors, the activation pool's idle arrays (up to 1/8 of the heap) and G1's
     * headroom.
     */
    public static final double USABLE_HEAP = 0.75;

    /**
     * Assumed sustained rate per CPU thread for the time figure: convolutions and GEMMs run at
     * 45-100 GFLOP/s per thread on the AVX-512 VM of the README's benchmarks.
     */
    public static final double GFLOPS_PER_THREAD = 40;

    /**
     * The same for the U-Net's self-attention: 28-42 GFLOP/s per thread at head widths 40-512
     * ({@code bench/results/cpu-2026-11-21.json}), less at narrow heads (the tiny model's 8).
     */
    public static final double ATTENTION_GFLOPS_PER_THREAD = 20;

    /**
     * The estimate for a clip of {@code geo} on {@code model}, decoded and vocoded as
     * {@link TextToAudioPipeline} does (tiles and chunks past its thresholds).
     *
     * @param heapBytes the heap to check against, or 0 not to check
     */
    public static ResourceEstimate of(AudioModel model, LatentGeometry geo, boolean cfg, int steps,
            SamplerKind sampler, long heapBytes) {
        int[] lat = geo.latentShape();
        int batch = lat[0];
        int unetBatch = cfg ? 2 * batch : batch;
        double[] u = unet(model.unet().levels(), lat[1], unetBatch, lat[2], lat[3]);
        AutoencoderKL.Tiling tiling = TextToAudioPipeline.VAE_TILING;
        int tiles = tiling.tiles(lat[2]);
        int tileLen = tiling.tileLength(lat[2]);
        double[] v = vae(model.vae(), batch, tileLen, lat[3]);
        double vaeFlops = v[1] * tiles;
        int f = model.vae().vaeScaleFactor();
        long frames = (long) lat[2] * f;
        HifiGanConfig voc = model.vocoder().config();
        int chunkFrames = TextToAudioPipeline.vocoderChunkFrames(voc.hopLength());
        int chunks = frames > chunkFrames ? (int) ((frames + chunkFrames - 1) / chunkFrames) : 1;
        long chunkLen = chunks == 1 ? frames
                : (frames + chunks - 1) / chunks + 2L * model.vocoder().receptiveFieldFrames();
        double[] k = vocoder(voc, batch, chunkLen);
        double vocFlops = k[1] * chunks;
        long latentFloats = (long) batch * lat[1] * lat[2] * lat[3];
        long melFloats = (long) batch * model.vae().outChannels() * frames * lat[3] * f;
        long waveFloats = (long) batch * frames * voc.hopLength();
        // latents and the sampler's copies (scaled input, CFG pair, model output, guided, history);
        // the mel as decoded, as a tensor and per waveform; the waveform as vocoded, as a tensor,
        // copied out, per waveform and the checked copy.
        long clip = 4 * (12 * latentFloats + 3 * melFloats + 5 * waveFloats);
        if (tiles > 1) {
            clip += 4L * melFloats; // the blended output beside the last tile
        }
        int calls = sampler == SamplerKind.HEUN ? 2 : 1;
        return new ResourceEstimate(geo.originalWaveformLength() / (double) voc.samplingRate(), lat.clone(),
                unetBatch, steps * calls, (long) u[0], (long) v[0], (long) k[0], clip, u[1], u[2], vaeFlops, vocFlops,
                tiles, chunks, heapBytes);
    }

    /** The largest stage's peak plus the clip's arrays. */
    public long peakBytes() {
        return Math.max(unetBytes, Math.max(vaeBytes, vocoderBytes)) + clipBytes;
    }

    /** The stage whose peak is {@link #peakBytes()}. */
    public String peakStage() {
        if (unetBytes >= vaeBytes && unetBytes >= vocoderBytes) {
            return "denoise (U-Net)";
        }
        return vaeBytes >= vocoderBytes ? "decode (VAE)" : "vocode (vocoder)";
    }

    /** Whether the peak fits in {@link #USABLE_HEAP} of the heap (always true when not checked). */
    public boolean fits() {
        return heapBytes == 0 || peakBytes() <= (long) (USABLE_HEAP * heapBytes);
    }

    /** All the floating-point work (multiply and add counted as 2). */
    public double totalFlops() {
        return unetFlops * unetCalls + vaeFlops + vocoderFlops;
    }

    /**
     * A rough wall time on {@code threads} idle CPU threads at {@link #GFLOPS_PER_THREAD} and
     * {@link #ATTENTION_GFLOPS_PER_THREAD}: an order of magnitude, not a promise (a loaded machine
     * or another CPU moves it by several times).
     */
    public double roughSeconds(int threads) {
        double attention = unetAttentionFlops * unetCalls;
        int t = Math.max(1, threads);
        return (totalFlops() - attention) / (GFLOPS_PER_THREAD * 1e9 * t)
                + attention / (ATTENTION_GFLOPS_PER_THREAD * 1e9 * t);
    }

    /** One line for a log: the peak against the heap and the work. */
    public String summary(int threads) {
        String heap = heapBytes == 0 ? "device memory not estimated"
                : String.format(Locale.ROOT, "of %s usable heap", mib((long) (USABLE_HEAP * heapBytes)));
        return String.format(Locale.ROOT, "peak %s in %s %s; %.1f TFLOP (U-Net self-attention %.0f %%), roughly %s on"
                + " %d CPU thread%s%s%s", mib(peakBytes()), peakStage(), heap, totalFlops() / 1e12,
                100 * unetAttentionFlops * unetCalls / totalFlops(), duration(roughSeconds(threads)), threads,
                threads == 1 ? "" : "s", vaeTiles > 1 ? "; decode in " + vaeTiles + " tiles" : "",
                vocoderChunks > 1 ? ", vocode in " + vocoderChunks + " chunks" : "");
    }

    static String mib(long bytes) {
        return bytes >= 10L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%d MiB", (bytes + (1 << 20) - 1) >> 20);
    }

    static String duration(double s) {
        if (s < 120) {
            return String.format(Locale.ROOT, "%.0f s", Math.max(1, s));
        }
        if (s < 2 * 3600) {
            return String.format(Locale.ROOT, "%.0f min", s / 60);
        }
        return String.format(Locale.ROOT, "%.1f h", s / 3600);
    }

    // ---------------------------------------------------------------- the counts

    /**
     * U-Net call on {@code batch x [c, h, w]}. Memory: the skip connections kept from the down
     * path to the up path, plus the largest working set of one block: a resnet holds its input,
     * the normed copy, the Winograd/im2col workspace (about 4 x its input and 4 x its output), the
     * conv output, the second norm and conv and the residual sum, about {@code 6 Cin + 10 Cout}
     * floats per position (up blocks read a concatenation, so {@code Cin} includes the skip); a
     * transformer holds its input, norm, Q, K, V, the packed K^T and V, the attention output and
     * GEGLU's {@code 8C} projection and {@code 4C} gate, about {@code 24 C}. Work: 3x3 convolutions
     * {@code 2 * 9 * Cin * Cout} per position, transformers {@code 40 C^2} per position for their
     * projections and feed-forward plus {@code 4 L^2 C} for self-attention's scores and values.
     *
     * @return {bytes, flops, attention flops}
     */
    public static double[] unet(UNet2DConditionModel.Levels lv, int inChannels, int batch, int h, int w) {
        int n = lv.channels().length;
        double skips = 0;
        double working = 0;
        double flops = 0;
        double attn = 0;
        double[] pos = new double[n];
        int hh = h;
        int ww = w;
        for (int l = 0; l < n; l++) {
            pos[l] = (double) hh * ww;
            hh = (hh + 1) / 2;
            ww = (ww + 1) / 2;
        }
        double p0 = pos[0];
        int c0 = lv.channels()[0];
        flops += conv3(inChannels, c0, p0);
        skips += c0 * p0;
        int prev = c0;
        for (int l = 0; l < n; l++) {
            int c = lv.channels()[l];
            double p = pos[l];
            for (int r = 0; r < lv.layers()[l]; r++) {
                int in = r == 0 ? prev : c;
                flops += resnet(in, c, p);
                working = Math.max(working, (6.0 * in + 10.0 * c) * p);
                skips += c * p;
                if (lv.attention()[l]) {
                    double[] t = transformer(c, p, lv.transformerLayers()[l]);
                    flops += t[0];
                    attn += t[1];
                    working = Math.max(working, 24.0 * c * p);
                }
            }
            if (l < n - 1) {
                flops += conv3(c, c, pos[l + 1]);
                skips += c * pos[l + 1];
            }
            prev = c;
        }
        // Mid block: resnet, transformer, resnet at the deepest level.
        int cd = lv.channels()[n - 1];
        double pd = pos[n - 1];
        flops += 2 * resnet(cd, cd, pd);
        double[] mid = transformer(cd, pd, lv.transformerLayers()[n - 1]);
        flops += mid[0];
        attn += mid[1];
        // Up path: layers + 1 resnets per level on the concatenation with a skip.
        for (int l = n - 1; l >= 0; l--) {
            int c = lv.channels()[l];
            double p = pos[l];
            for (int r = 0; r <= lv.layers()[l]; r++) {
                int in = (r == 0 ? prev : c) + (r == lv.layers()[l] ? lv.channels()[Math.max(l - 1, 0)] : c);
                flops += resnet(in, c, p);
                working = Math.max(working, (7.0 * in + 10.0 * c) * p);
                if (lv.attention()[l]) {
                    double[] t = transformer(c, p, lv.transformerLayers()[l]);
                    flops += t[0];
                    attn += t[1];
                }
            }
            if (l > 0) {
                flops += conv3(c, c, pos[l - 1]);
                working = Math.max(working, 10.0 * c * pos[l - 1]);
            }
            prev = c;
        }
        flops += conv3(c0, inChannels, p0);
        double bytes = 4.0 * batch * (skips + working + 2.0 * c0 * p0);
        return new double[] {bytes, batch * flops, batch * attn};
    }

    /**
     * VAE decode of {@code batch x [latent, h, w]}: work at every level (resnets, the mid block's
     * single-head attention over all {@code h * w} latent positions, upsampler convolutions);
     * memory at the largest level: a resnet holds its input, the normed copy, the conv output,
     * the second norm and conv, the shortcut and the sum, about {@code 3 Cin + 6 Cout} floats per
     * position (the Winograd workspaces are chunked to 8 MB, so they do not grow with the clip);
     * an upsampler its input, the nearest-neighbour copy and the conv output, about {@code 3 C}
     * at the new resolution; the mid block's attention {@code 16 C} at the latent's.
     *
     * @return {bytes, flops}
     */
    public static double[] vae(AutoencoderKL vae, int batch, int h, int w) {
        int[] blocks = vae.blockOutChannels();
        int n = blocks.length;
        int layers = vae.layersPerBlock() + 1;
        double p = (double) h * w;
        int c = blocks[n - 1];
        double flops = conv3(vae.latentChannels(), c, p) + 2 * resnet(c, c, p) + 8.0 * c * c * p + 4 * p * p * c;
        double working = 16.0 * c * p;
        int prev = c;
        for (int i = 0; i < n; i++) {
            c = blocks[n - 1 - i];
            for (int r = 0; r < layers; r++) {
                int in = r == 0 ? prev : c;
                flops += resnet(in, c, p);
                working = Math.max(working, (3.0 * in + 6.0 * c) * p);
            }
            if (i < n - 1) {
                p *= 4;
                flops += conv3(c, c, p);
                working = Math.max(working, 3.0 * c * p);
            }
            prev = c;
        }
        flops += conv3(c, vae.outChannels(), p);
        return new double[] {4.0 * batch * working + WORKSPACE_BYTES, batch * flops};
    }

    /** The convolutions' shared workspaces (Winograd's V and M chunks, transformed filters), bounded. */
    private static final double WORKSPACE_BYTES = 32 << 20;

    /**
     * Vocoder on {@code batch x frames}: at stage {@code i} ({@code C} channels, {@code L}
     * samples) the upsampler's input and its leaky copy, the upsampled signal, the residual blocks'
     * running sum, one block's five intermediates and the convolution workspace, about
     * {@code 12 C L + 4 C' L'} floats with {@code C' L'} the stage's input. Work: the transposed
     * convolution {@code 2 k Cin Cout} per input sample and {@code 2 * 2 k C^2} per sample for each
     * dilation of each residual block.
     *
     * @return {bytes, flops}
     */
    public static double[] vocoder(HifiGanConfig c, int batch, long frames) {
        double len = frames;
        int ch = c.upsampleInitialChannel();
        double flops = 2.0 * 7 * c.modelInDim() * ch * len;
        double working = 0;
        for (int i = 0; i < c.upsampleRates().length; i++) {
            int out = c.channelsAfter(i);
            flops += 2.0 * c.upsampleKernelSizes()[i] * ch * out * len;
            double inFloats = ch * len;
            len *= c.upsampleRates()[i];
            for (int j = 0; j < c.resblockKernelSizes().length; j++) {
                flops += c.resblockDilations()[j].length * 2 * (2.0 * c.resblockKernelSizes()[j] * out * out * len);
            }
            working = Math.max(working, 12.0 * out * len + 4 * inFloats);
            ch = out;
        }
        flops += 2.0 * 7 * ch * len;
        return new double[] {4.0 * batch * working, batch * flops};
    }

    private static double conv3(int in, int out, double positions) {
        return 2.0 * 9 * in * out * positions;
    }

    private static double resnet(int in, int out, double positions) {
        return conv3(in, out, positions) + conv3(out, out, positions) + (in != out ? 2.0 * in * out * positions : 0);
    }

    /** {all flops, self-attention score and value flops} of a transformer of {@code layers} blocks. */
    private static double[] transformer(int c, double positions, int layers) {
        double attn = 4.0 * positions * positions * c;
        return new double[] {layers * (40.0 * c * c * positions + attn) + 4.0 * c * c * positions, layers * attn};
    }
}
