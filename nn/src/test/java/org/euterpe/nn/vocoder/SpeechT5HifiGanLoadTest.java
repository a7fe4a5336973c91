package org.euterpe.nn.vocoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentCopy;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading the vocoder: its config, and clear errors for broken checkpoints, configs and inputs. */
class SpeechT5HifiGanLoadTest {
    @TempDir
    Path tmp;

    private static SpeechT5HifiGan load(Path pipeline) throws Exception {
        try (ComponentFiles files = ComponentFiles.open(pipeline, "vocoder")) {
            return SpeechT5HifiGan.load(files, Backends.scalar());
        }
    }

    private ModelLoadException loadFails(Consumer<ComponentCopy> edit) throws Exception {
        Path pipeline = ComponentCopy.edited("tiny-audioldm", "vocoder", tmp, edit);
        return assertThrows(ModelLoadException.class, () -> load(pipeline));
    }

    @Test
    void readsConfig() throws Exception {
        HifiGanConfig c = load(TestData.conformanceCase("tiny-audioldm")).config();
        assertEquals(8, c.modelInDim());
        assertEquals(16000, c.samplingRate());
        assertEquals(4, c.hopLength());
        assertArrayEquals(new int[][] {{1, 3, 5}, {1, 3, 5}}, c.resblockDilations());
        assertEquals(0.1f, c.leakyReluSlope());
        assertEquals(false, c.normalizeBefore());
    }

    @Test
    void missingWeightIsNamed() throws Exception {
        ModelLoadException e = loadFails(c -> c.tensors().remove("resblocks.3.convs2.1.bias"));
        assertTrue(e.getMessage().contains("resblocks.3.convs2.1.bias"), e.getMessage());
    }

    @Test
    void wrongShapeIsNamed() throws Exception {
        ModelLoadException e = loadFails(c -> c.tensors().put("upsampler.1.weight", ComponentCopy.zeros(8, 4, 5)));
        assertTrue(e.getMessage().contains("upsampler.1.weight"), e.getMessage());
    }

    @Test
    void unexpectedWeightIsReported() throws Exception {
        ModelLoadException e = loadFails(c -> c.tensors().put("conv_pre.weight_g", ComponentCopy.zeros(16, 1, 1)));
        assertTrue(e.getMessage().contains("conv_pre.weight_g"), e.getMessage());
    }

    @Test
    void unknownConfigKeyIsNamed() throws Exception {
        ModelLoadException e = loadFails(c -> c.config().put("use_weight_norm", true));
        assertTrue(e.getMessage().contains("use_weight_norm"), e.getMessage());
    }

    @Test
    void inconsistentConfigIsRejected() throws Exception {
        ModelLoadException e = loadFails(c -> c.config().put("upsample_rates", List.of(2L, 2L, 2L)));
        assertTrue(e.getMessage().contains("upsample_rates"), e.getMessage());
    }

    @Test
    void normalizeBeforeNeedsMeanAndScale() throws Exception {
        ModelLoadException e = loadFails(c -> {
            c.config().put("normalize_before", true);
            c.tensors().remove("scale");
        });
        assertTrue(e.getMessage().contains("scale"), e.getMessage());
    }

    @Test
    void wrongMelShapeIsRejected() throws Exception {
        try (ComponentFiles files = ComponentFiles.open(TestData.conformanceCase("tiny-audioldm"), "vocoder")) {
            checkBadInput(SpeechT5HifiGan.load(files, Backends.scalar()));
        }
    }

    private static void checkBadInput(SpeechT5HifiGan vocoder) {
        var be = Backends.scalar();
        // [batch, mels, frames] instead of [batch, frames, mels]
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> vocoder.forward(be.fromArray(new float[8 * 10], Shape.of(1, 8, 10))));
        assertTrue(e.getMessage().contains("[1, 8, 10]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> vocoder.forward(be.fromArray(new float[80], Shape.of(10, 8))));
    }
}
