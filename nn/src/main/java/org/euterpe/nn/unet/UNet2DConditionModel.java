package org.euterpe.nn.unet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.nn.Trace;
import org.euterpe.nn.layers.Conv2d;
import org.euterpe.nn.layers.GroupNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers 0.21.4 UNet2DConditionModel, for the configurations AudioLDM, MusicLDM and
 * Stable-Diffusion-style models use: positional timestep embedding, optional
 * {@code simple_projection} class embedding (added to, or with {@code class_embeddings_concat}
 * concatenated with, the time embedding), DownBlock2D / CrossAttnDownBlock2D down blocks,
 * UNetMidBlock2DCrossAttn, UpBlock2D / CrossAttnUpBlock2D up blocks.
 *
 * <p>{@code attention_head_dim} is, as in diffusers 0.21.4, the <em>number of heads</em> of each
 * transformer (the naming quirk of diffusers issue #2011); each head is {@code channels / heads}
 * wide. A config that sets {@code num_attention_heads} is rejected, as 0.21.4 rejects it.
 */
public final class UNet2DConditionModel {
    private final int inChannels;
    private final boolean centerInputSample;
    private final Timesteps timeProj;
    private final TimestepEmbedding timeEmbedding;
    private final Linear classEmbedding;
    private final boolean classEmbeddingsConcat;
    private final Conv2d convIn;
    private final List<UNetDownBlock> downBlocks;
    private final UNetMidBlock2DCrossAttn midBlock;
    private final List<UNetUpBlock> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;
    private final Backend backend;
    private final Levels levels;

    private UNet2DConditionModel(Builder b) {
        this.inChannels = b.inChannels;
        this.centerInputSample = b.centerInputSample;
        this.timeProj = b.timeProj;
        this.timeEmbedding = b.timeEmbedding;
        this.classEmbedding = b.classEmbedding;
        this.classEmbeddingsConcat = b.classEmbeddingsConcat;
        this.convIn = b.convIn;
        this.downBlocks = b.downBlocks;
        this.midBlock = b.midBlock;
        this.upBlocks = b.upBlocks;
        this.convNormOut = b.convNormOut;
        this.convOut = b.convOut;
        this.backend = b.backend;
        this.levels = b.levels;
    }

    /**
     * The shape of the network by resolution level, for estimating what a forward pass costs
     * before running it (memory, FLOPs).
     *
     * @param channels          block_out_channels
     * @param attention         whether the level's blocks hold transformers (CrossAttn*Block2D);
     *                          the mid block always does
     * @param heads             attention heads per level
     * @param layers            resnets per down block (up blocks have one more)
     * @param transformerLayers BasicTransformerBlocks per transformer
     */
    public record Levels(int[] channels, boolean[] attention, int[] heads, int[] layers, int[] transformerLayers) {
    }

    public Levels levels() {
        return levels;
    }

    /** Loads {@code pipelineDir/unet} onto {@code backend}; the files stay mapped while the model is used. */
    public static UNet2DConditionModel load(ComponentFiles files, Backend backend) {
        return load(files.config(), files.weights(backend));
    }

    /** Opens and loads {@code pipelineDir/unet}. The returned files must stay open while the model is used. */
    public static ComponentFiles open(Path pipelineDir) throws IOException {
        return ComponentFiles.open(pipelineDir, "unet");
    }

    /**
     * Builds the model from its config and weights; fails with {@link ModelLoadException} naming
     * any config option it does not implement, or any missing, extra or misshapen weight.
     */
    public static UNet2DConditionModel load(Config config, Weights w) {
        try {
            UNet2DConditionModel m = build(config, w);
            w.checkAllUsed();
            return m;
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(config.context() + ": " + e.getMessage(), e);
        }
    }

    private static UNet2DConditionModel build(Config c, Weights w) {
        // Options this implementation supports only at their listed values.
        c.require("act_fn", "silu", "swish", null);
        c.require("addition_embed_type", (Object) null);
        c.require("addition_time_embed_dim", (Object) null);
        c.require("attention_type", "default", null);
        c.require("cross_attention_norm", (Object) null);
        c.require("dual_cross_attention", false, null);
        c.require("encoder_hid_dim", (Object) null);
        c.require("encoder_hid_dim_type", (Object) null);
        c.require("num_attention_heads", (Object) null); // diffusers 0.21.4 raises on it too
        c.require("num_class_embeds", (Object) null);
        c.require("only_cross_attention", false, null);
        c.require("mid_block_only_cross_attention", false, null); // only read by the SimpleCrossAttn mid block
        c.require("resnet_time_scale_shift", "default", null);
        c.require("time_cond_proj_dim", (Object) null);
        c.require("time_embedding_act_fn", (Object) null);
        c.require("time_embedding_type", "positional", null);
        c.require("timestep_post_act", (Object) null);
        c.require("class_embed_type", "simple_projection", null);
        c.require("downsample_padding", 0, 1, null);
        // Read but without effect on the supported block types: diffusers passes them only to the
        // Simple*/ResnetDownsample blocks, to the "text" addition embedding, or uses them for tiling.
        c.raw("resnet_out_scale_factor");
        c.raw("resnet_skip_time_act");
        c.raw("addition_embed_type_num_heads");
        c.raw("sample_size");
        c.optBoolean("upcast_attention", false); // activations are float32 already

        Builder b = new Builder();
        b.backend = w.backend();
        int[] blockOut = c.getIntArray("block_out_channels");
        List<String> downTypes = c.getStringList("down_block_types");
        List<String> upTypes = c.getStringList("up_block_types");
        int n = blockOut.length;
        if (downTypes.size() != n || upTypes.size() != n) {
            throw new ModelLoadException(c.context() + ": down_block_types (" + downTypes.size() + "), up_block_types ("
                    + upTypes.size() + ") and block_out_channels (" + n + ") differ in length");
        }
        if (c.has("mid_block_type")) {
            c.require("mid_block_type", "UNetMidBlock2DCrossAttn");
        }
        int[] heads = c.intOrList("attention_head_dim", n, 8);
        int[] crossDim = c.intOrList("cross_attention_dim", n, 1280);
        int[] layersPerBlock = c.intOrList("layers_per_block", n, 2);
        int[] transformerLayers = c.intOrList("transformer_layers_per_block", n, 1);
        int groups = c.optInt("norm_num_groups", 32);
        double eps = c.optDouble("norm_eps", 1e-5);
        boolean linearProjection = c.optBoolean("use_linear_projection", false);
        int downsamplePadding = c.optInt("downsample_padding", 1);
        double midScale = c.optDouble("mid_block_scale_factor", 1.0);
        b.inChannels = c.optInt("in_channels", 4);
        int outChannels = c.optInt("out_channels", 4);
        b.centerInputSample = c.optBoolean("center_input_sample", false);

        // Time and class embeddings.
        int timeEmbedDim = c.has("time_embedding_dim") ? c.getInt("time_embedding_dim") : 4 * blockOut[0];
        b.timeProj = new Timesteps(blockOut[0], c.optBoolean("flip_sin_to_cos", true), c.optDouble("freq_shift", 0));
        b.timeEmbedding = TimestepEmbedding.load(w.child("time_embedding"), blockOut[0], timeEmbedDim);
        b.classEmbeddingsConcat = c.optBoolean("class_embeddings_concat", false);
        int tembChannels = timeEmbedDim;
        if ("simple_projection".equals(c.optString("class_embed_type", null))) {
            if (!c.has("projection_class_embeddings_input_dim")) {
                throw new ModelLoadException(c.context()
                        + ": class_embed_type simple_projection needs projection_class_embeddings_input_dim");
            }
            b.classEmbedding = Linear.load(w.child("class_embedding"),
                    c.getInt("projection_class_embeddings_input_dim"), timeEmbedDim);
            if (b.classEmbeddingsConcat) {
                tembChannels = 2 * timeEmbedDim;
            }
        } else {
            c.raw("projection_class_embeddings_input_dim");
        }

        int kIn = c.optInt("conv_in_kernel", 3);
        int kOut = c.optInt("conv_out_kernel", 3);
        b.convIn = Conv2d.load(w.child("conv_in"), b.inChannels, blockOut[0], kIn, 1, (kIn - 1) / 2);

        // Down path.
        b.downBlocks = new ArrayList<>();
        int out = blockOut[0];
        for (int i = 0; i < n; i++) {
            int in = out;
            out = blockOut[i];
            UNetBlockSpec s = new UNetBlockSpec(in, out, 0, layersPerBlock[i], tembChannels, groups, eps, 1.0,
                    heads[i], transformerLayers[i], crossDim[i], linearProjection, i < n - 1, downsamplePadding);
            Weights bw = w.child("down_blocks", i);
            b.downBlocks.add(switch (downTypes.get(i)) {
                case "DownBlock2D" -> DownBlock2D.load(bw, s);
                case "CrossAttnDownBlock2D" -> CrossAttnDownBlock2D.load(bw, s);
                default -> throw new ModelLoadException(c.context() + ": unsupported down block type \""
                        + downTypes.get(i) + "\" (supported: DownBlock2D, CrossAttnDownBlock2D)");
            });
        }

        int deepest = blockOut[n - 1];
        b.midBlock = UNetMidBlock2DCrossAttn.load(w.child("mid_block"),
                new UNetBlockSpec(deepest, deepest, 0, 1, tembChannels, groups, eps, midScale, heads[n - 1],
                        transformerLayers[n - 1], crossDim[n - 1], linearProjection, false, 0));

        // Up path: the per-block lists reversed.
        b.upBlocks = new ArrayList<>();
        out = blockOut[n - 1];
        for (int i = 0; i < n; i++) {
            int r = n - 1 - i;
            int prev = out;
            out = blockOut[r];
            int in = blockOut[Math.max(r - 1, 0)];
            UNetBlockSpec s = new UNetBlockSpec(in, out, prev, layersPerBlock[r] + 1, tembChannels, groups, eps, 1.0,
                    heads[r], transformerLayers[r], crossDim[r], linearProjection, i < n - 1, 0);
            Weights bw = w.child("up_blocks", i);
            b.upBlocks.add(switch (upTypes.get(i)) {
                case "UpBlock2D" -> UpBlock2D.load(bw, s);
                case "CrossAttnUpBlock2D" -> CrossAttnUpBlock2D.load(bw, s);
                default -> throw new ModelLoadException(c.context() + ": unsupported up block type \""
                        + upTypes.get(i) + "\" (supported: UpBlock2D, CrossAttnUpBlock2D)");
            });
        }

        boolean[] attention = new boolean[n];
        for (int i = 0; i < n; i++) {
            attention[i] = downTypes.get(i).startsWith("CrossAttn");
        }
        b.levels = new Levels(blockOut.clone(), attention, heads.clone(), layersPerBlock.clone(),
                transformerLayers.clone());
        b.convNormOut = GroupNorm.load(w.child("conv_norm_out"), groups, blockOut[0], eps);
        b.convOut = Conv2d.load(w.child("conv_out"), blockOut[0], outChannels, kOut, 1, (kOut - 1) / 2);
        c.finish();
        return new UNet2DConditionModel(b);
    }

    /** Latent channels the model takes. */
    /** The width of the class labels the forward pass takes, or 0 when the model has no class embedding. */
    public int classEmbeddingInputDim() {
        return classEmbedding == null ? 0 : classEmbedding.inFeatures();
    }

    public int inChannels() {
        return inChannels;
    }

    /** One timestep for the whole batch, no trace. See {@link #forward(Tensor, float[], Tensor, Tensor, Trace)}. */
    public Tensor forward(Tensor sample, float timestep, Tensor encoderHiddenStates, Tensor classLabels) {
        return forward(sample, new float[] {timestep}, encoderHiddenStates, classLabels, Trace.NONE);
    }

    /**
     * The noise prediction.
     *
     * @param sample              {@code [batch, inChannels, h, w]}
     * @param timesteps           one timestep (broadcast to the batch) or one per batch entry;
     *                            fractional values are embedded as they are
     * @param encoderHiddenStates {@code [batch, tokens, cross_attention_dim]} for cross-attention,
     *                            or null: then the "cross" attention attends to the hidden states
     *                            themselves (AudioLDM / MusicLDM)
     * @param classLabels         {@code [batch, projection_class_embeddings_input_dim]}; required
     *                            when the model has a class embedding, ignored otherwise
     * @param trace               receives {@code time_proj, time_embedding, class_embedding,
     *                            conv_in, down_blocks.k, mid_block, up_blocks.k, conv_norm_out, conv_out}
     * @return {@code [batch, out_channels, h, w]}
     */
    public Tensor forward(Tensor sample, float[] timesteps, Tensor encoderHiddenStates, Tensor classLabels,
            Trace trace) {
        int batch = sample.dim(0);
        if (sample.rank() != 4 || sample.dim(1) != inChannels) {
            throw new IllegalArgumentException("UNet sample must be [batch, " + inChannels + ", h, w], got "
                    + sample.shape());
        }
        if (timesteps.length != 1 && timesteps.length != batch) {
            throw new IllegalArgumentException(timesteps.length + " timesteps for a batch of " + batch);
        }
        if (classEmbedding != null && (classLabels == null || classLabels.rank() != 2 || classLabels.dim(0) != batch)) {
            throw new IllegalArgumentException("this UNet needs class_labels [" + batch + ", "
                    + classEmbedding.inFeatures() + "], got " + (classLabels == null ? "none" : classLabels.shape()));
        }
        if (encoderHiddenStates != null && (encoderHiddenStates.rank() != 3 || encoderHiddenStates.dim(0) != batch)) {
            throw new IllegalArgumentException("encoder_hidden_states must be [" + batch + ", tokens, dim], got "
                    + encoderHiddenStates.shape());
        }
        float[] ts = timesteps.length == batch ? timesteps : filled(batch, timesteps[0]);
        try (Scope scope = Scope.open()) {
            Tensor x = centerInputSample ? sample.mul(2f).add(-1f) : sample;

            Tensor tEmb = timeProj.forward(backend, ts);
            trace.record("time_proj", tEmb);
            Tensor emb = timeEmbedding.forward(tEmb);
            trace.record("time_embedding", emb);
            if (classEmbedding != null) {
                Tensor classEmb = classEmbedding.forward(classLabels);
                trace.record("class_embedding", classEmb);
                emb = classEmbeddingsConcat ? backend.concat(List.of(emb, classEmb), 1) : emb.add(classEmb);
            }
            Tensor tembAct = emb.silu(); // every resnet applies SiLU to the embedding first: do it once

            Tensor h = convIn.forward(x);
            trace.record("conv_in", h);
            List<Tensor> skips = new ArrayList<>();
            skips.add(h);
            for (int i = 0; i < downBlocks.size(); i++) {
                h = downBlocks.get(i).forward(h, tembAct, encoderHiddenStates, skips);
                trace.record("down_blocks." + i, h);
            }
            h = midBlock.forward(h, tembAct, encoderHiddenStates);
            trace.record("mid_block", h);

            // When h or w is not a multiple of the total downsampling, each upsampler resizes to the
            // size of the skip it will meet next instead of doubling (13 -> 7 -> 13, not 14).
            int factor = 1 << (upBlocks.size() - 1);
            boolean forwardUpsampleSize = x.dim(2) % factor != 0 || x.dim(3) % factor != 0;
            for (int i = 0; i < upBlocks.size(); i++) {
                UNetUpBlock block = upBlocks.get(i);
                int[] upsampleTo = null;
                if (forwardUpsampleSize && i < upBlocks.size() - 1) {
                    Tensor next = skips.get(skips.size() - block.numSkips() - 1);
                    upsampleTo = new int[] {next.dim(2), next.dim(3)};
                }
                h = block.forward(h, skips, tembAct, encoderHiddenStates, upsampleTo);
                trace.record("up_blocks." + i, h);
            }

            h = convNormOut.forwardSilu(h, trace, "conv_norm_out");
            Tensor out = convOut.forward(h);
            trace.record("conv_out", out);
            return scope.keep(out);
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    /** Mutable holder for the parts during loading. */
    private static final class Builder {
        Backend backend;
        int inChannels;
        boolean centerInputSample;
        Timesteps timeProj;
        TimestepEmbedding timeEmbedding;
        Linear classEmbedding;
        boolean classEmbeddingsConcat;
        Conv2d convIn;
        List<UNetDownBlock> downBlocks;
        UNetMidBlock2DCrossAttn midBlock;
        List<UNetUpBlock> upBlocks;
        GroupNorm convNormOut;
        Conv2d convOut;
        Levels levels;
    }
}
