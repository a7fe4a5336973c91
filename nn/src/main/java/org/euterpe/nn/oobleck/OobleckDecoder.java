package org.euterpe.nn.oobleck;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * Latents to audio: a kernel-7 convolution to {@code decoder_channels · channel_multiples[-1]}, one
 * {@link OobleckDecoderBlock} per stride (the strides reversed, channels shrinking), Snake and a kernel-7
 * convolution without bias to the audio channels.
 */
final class OobleckDecoder {
    private final Conv1d conv1;
    private final List<OobleckDecoderBlock> blocks;
    private final Snake1d snake1;
    private final Conv1d conv2;

    private OobleckDecoder(Conv1d conv1, List<OobleckDecoderBlock> blocks, Snake1d snake1, Conv1d conv2) {
        this.conv1 = conv1;
        this.blocks = blocks;
        this.snake1 = snake1;
        this.conv2 = conv2;
    }

    static OobleckDecoder load(Weights w, OobleckConfig c) {
        int ch = c.decoderChannels();
        int[] mult = OobleckEncoder.multiples(c.channelMultiples());
        int[] ratios = c.downsamplingRatios();
        int n = ratios.length;
        List<OobleckDecoderBlock> blocks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            blocks.add(OobleckDecoderBlock.load(w.child("block", i), ch * mult[n - i], ch * mult[n - i - 1],
                    ratios[n - 1 - i]));
        }
        return new OobleckDecoder(
                WeightNorm.conv1d(w.child("conv1"), c.decoderInputChannels(), ch * mult[n], 7, 1, 3, 1, true),
                List.copyOf(blocks), Snake1d.load(w.child("snake1"), ch),
                WeightNorm.conv1d(w.child("conv2"), ch, c.audioChannels(), 7, 1, 3, 1, false));
    }

    /** {@code [batch, decoder_input_channels, frames]} to {@code [batch, audio_channels, frames * hop]}. */
    Tensor forward(Tensor z, Trace trace) {
        try (Scope scope = Scope.open()) {
            Tensor h = conv1.forward(z);
            trace.record("conv1", h);
            for (int i = 0; i < blocks.size(); i++) {
                Tensor next = blocks.get(i).forward(h);
                h.close();
                h = next;
                trace.record("block." + i, h);
            }
            h = snake1.forward(h);
            trace.record("snake1", h);
            h = conv2.forward(h);
            trace.record("conv2", h);
            return scope.keep(h);
        }
    }
}
