package org.euterpe.nn.oobleck;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.nn.Trace;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Tensor;

/**
 * Audio to the posterior's parameters: a kernel-7 convolution to {@code encoder_hidden_size}, one
 * {@link OobleckEncoderBlock} per stride (channels times {@code channel_multiples}), Snake and a kernel-3
 * convolution back to {@code encoder_hidden_size} channels (mean and scale halves).
 */
final class OobleckEncoder {
    private final Conv1d conv1;
    private final List<OobleckEncoderBlock> blocks;
    private final Snake1d snake1;
    private final Conv1d conv2;

    private OobleckEncoder(Conv1d conv1, List<OobleckEncoderBlock> blocks, Snake1d snake1, Conv1d conv2) {
        this.conv1 = conv1;
        this.blocks = blocks;
        this.snake1 = snake1;
        this.conv2 = conv2;
    }

    static OobleckEncoder load(Weights w, OobleckConfig c) {
        int h = c.encoderHiddenSize();
        int[] mult = multiples(c.channelMultiples());
        List<OobleckEncoderBlock> blocks = new ArrayList<>();
        for (int i = 0; i < c.downsamplingRatios().length; i++) {
            blocks.add(OobleckEncoderBlock.load(w.child("block", i), h * mult[i], h * mult[i + 1],
                    c.downsamplingRatios()[i]));
        }
        int dModel = h * mult[mult.length - 1];
        return new OobleckEncoder(WeightNorm.conv1d(w.child("conv1"), c.audioChannels(), h, 7, 1, 3, 1, true),
                List.copyOf(blocks), Snake1d.load(w.child("snake1"), dModel),
                WeightNorm.conv1d(w.child("conv2"), dModel, h, 3, 1, 1, 1, true));
    }

    /** {@code [1] + channel_multiples}, as diffusers prepends. */
    static int[] multiples(int[] channelMultiples) {
        int[] m = new int[channelMultiples.length + 1];
        m[0] = 1;
        System.arraycopy(channelMultiples, 0, m, 1, channelMultiples.length);
        return m;
    }

    /** {@code [batch, audio_channels, samples]} to {@code [batch, encoder_hidden_size, samples / hop]}. */
    Tensor forward(Tensor audio, Trace trace) {
        try (Scope scope = Scope.open()) {
            Tensor h = conv1.forward(audio);
            trace.record("conv1", h);
            for (int i = 0; i < blocks.size(); i++) {
                h = blocks.get(i).forward(h);
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
