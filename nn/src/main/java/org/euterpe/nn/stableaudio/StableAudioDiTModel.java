package org.euterpe.nn.stableaudio;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.Config;
import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code StableAudioDiTModel}: the latent frames, after a residual 1x1 convolution and a linear
 * projection, become tokens behind one global token (the projected timing conditioning plus the timestep
 * embedding); {@code num_layers} {@link StableAudioDiTBlock}s attend over them (rotary self-attention,
 * grouped-query cross-attention to the projected text and timing tokens); the global token is dropped and a
 * projection and a residual 1x1 convolution give the model output (a v-prediction).
 */
public final class StableAudioDiTModel {
    private final StableAudioDiTConfig config;
    private final StableAudioGaussianFourierProjection timeProj;
    private final Linear timestepProj0;
    private final Linear timestepProj2;
    private final Linear globalProj0;
    private final Linear globalProj2;
    private final Linear crossAttentionProj0;
    private final Linear crossAttentionProj2;
    private final Conv1d preprocessConv;
    private final Linear projIn;
    private final List<StableAudioDiTBlock> blocks;
    private final Linear projOut;
    private final Conv1d postprocessConv;

    private StableAudioDiTModel(StableAudioDiTConfig config, StableAudioGaussianFourierProjection timeProj,
            Linear timestepProj0, Linear timestepProj2, Linear globalProj0, Linear globalProj2,
            Linear crossAttentionProj0, Linear crossAttentionProj2, Conv1d preprocessConv, Linear projIn,
            List<StableAudioDiTBlock> blocks, Linear projOut, Conv1d postprocessConv) {
        this.config = config;
        this.timeProj = timeProj;
        this.timestepProj0 = timestepProj0;
        this.timestepProj2 = timestepProj2;
        this.globalProj0 = globalProj0;
        this.globalProj2 = globalProj2;
        this.crossAttentionProj0 = crossAttentionProj0;
        this.crossAttentionProj2 = crossAttentionProj2;
        this.preprocessConv = preprocessConv;
        this.projIn = projIn;
        this.blocks = blocks;
        this.projOut = projOut;
        this.postprocessConv = postprocessConv;
    }

    /** Loads {@code transformer/} of a pipeline folder; keep {@code files} open while the model is used. */
    public static StableAudioDiTModel load(ComponentFiles files, Backend backend) {
        return load(files.weights(backend), files.config());
    }

    public static StableAudioDiTModel load(Weights w, Config c) {
        StableAudioDiTConfig d = StableAudioDiTConfig.read(c);
        int inner = d.innerDim();
        int in = d.inChannels();
        int out = d.outChannels();
        List<StableAudioDiTBlock> blocks = new ArrayList<>();
        for (int i = 0; i < d.numLayers(); i++) {
            blocks.add(StableAudioDiTBlock.load(w.child("transformer_blocks", i), d));
        }
        StableAudioDiTModel m = new StableAudioDiTModel(d,
                StableAudioGaussianFourierProjection.load(w.child("time_proj"), d.timeProjDim() / 2),
                Linear.load(w.child("timestep_proj").child("0"), d.timeProjDim(), inner, true),
                Linear.load(w.child("timestep_proj").child("2"), inner, inner, true),
                Linear.load(w.child("global_proj").child("0"), d.globalStatesInputDim(), inner, false),
                Linear.load(w.child("global_proj").child("2"), inner, inner, false),
                Linear.load(w.child("cross_attention_proj").child("0"), d.crossAttentionInputDim(),
                        d.crossAttentionDim(), false),
                Linear.load(w.child("cross_attention_proj").child("2"), d.crossAttentionDim(), d.crossAttentionDim(),
                        false),
                new Conv1d(w.get("preprocess_conv.weight", in, in, 1), null, 1, 0, 1),
                Linear.load(w.child("proj_in"), in, inner, false),
                List.copyOf(blocks),
                Linear.load(w.child("proj_out"), inner, out, false),
                new Conv1d(w.get("postprocess_conv.weight", out, out, 1), null, 1, 0, 1));
        w.checkAllUsed();
        return m;
    }

    public StableAudioDiTConfig config() {
        return config;
    }

    /**
     * One denoiser call. {@code trace} receives {@code time_proj}, {@code timestep_proj}, {@code global_proj},
     * {@code cross_attention_proj}, {@code preprocess_conv}, {@code proj_in}, {@code transformer_blocks.N},
     * {@code proj_out}, {@code postprocess_conv} (module outputs, before the residual adds).
     *
     * @param hiddenStates        {@code [batch, in_channels, frames]}
     * @param timestep            {@code [batch]}
     * @param encoderHiddenStates {@code [batch, tokens, cross_attention_input_dim]}
     * @param globalHiddenStates  {@code [batch, 1, global_states_input_dim]}
     * @param rotary              the table for {@code frames + 1} positions
     * @return {@code [batch, out_channels, frames]}
     */
    public Tensor forward(Tensor hiddenStates, float[] timestep, Tensor encoderHiddenStates, Tensor globalHiddenStates,
            RotaryEmbedding rotary, Trace trace) {
        int batch = hiddenStates.dim(0);
        int frames = hiddenStates.dim(2);
        if (hiddenStates.rank() != 3 || hiddenStates.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException("hidden_states " + hiddenStates.shape() + " must be [batch, "
                    + config.inChannels() + ", frames]");
        }
        if (timestep.length != batch || encoderHiddenStates.dim(0) != batch || globalHiddenStates.dim(0) != batch) {
            throw new IllegalArgumentException("timestep, encoder and global states need the batch size " + batch);
        }
        Backend backend = hiddenStates.backend();
        try (Scope scope = Scope.open()) {
            Tensor cross = crossAttentionProj2.forward(crossAttentionProj0.forward(encoderHiddenStates).silu());
            trace.record("cross_attention_proj", cross);
            Tensor global = globalProj2.forward(globalProj0.forward(globalHiddenStates).silu());
            trace.record("global_proj", global);
            Tensor time = timeProj.forward(timestep, backend);
            trace.record("time_proj", time);
            Tensor timeHidden = timestepProj2.forward(timestepProj0.forward(time).silu());
            trace.record("timestep_proj", timeHidden);
            global = global.add(timeHidden.reshape(batch, 1, timeHidden.dim(1)));

            Tensor pre = preprocessConv.forward(hiddenStates);
            trace.record("preprocess_conv", pre);
            Tensor h = projIn.forward(pre.add(hiddenStates).permute(0, 2, 1)); // [batch, frames, inner]
            trace.record("proj_in", h);
            h = backend.concat(List.of(global, h), 1); // the global token first
            for (int i = 0; i < blocks.size(); i++) {
                Tensor next = blocks.get(i).forward(h, cross, rotary);
                h = next;
                trace.record("transformer_blocks." + i, h);
            }
            Tensor projected = projOut.forward(h);
            trace.record("proj_out", projected);
            Tensor frameTokens = projected.permute(0, 2, 1).slice(2, 1, frames + 1); // [batch, out, frames]
            Tensor post = postprocessConv.forward(frameTokens);
            trace.record("postprocess_conv", post);
            return scope.keep(post.add(frameTokens));
        }
    }
}
