package org.euterpe.nn.clap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentCopy;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading the text encoder: both checkpoint layouts, and clear errors for broken ones and bad input. */
class ClapTextEncoderLoadTest {
    @TempDir
    Path tmp;

    private static ClapTextEncoder load(Path pipeline) throws Exception {
        try (ComponentFiles files = ComponentFiles.open(pipeline, "text_encoder")) {
            return ClapTextEncoder.load(files, Backends.scalar());
        }
    }

    /** Loads a copy of {@code caseName}'s text encoder after {@code edit}. */
    private ClapTextEncoder loadEdited(String caseName, Consumer<ComponentCopy> edit) throws Exception {
        return load(ComponentCopy.edited(caseName, "text_encoder", tmp, edit));
    }

    private ModelLoadException loadFails(String caseName, Consumer<ComponentCopy> edit) {
        return assertThrows(ModelLoadException.class, () -> loadEdited(caseName, edit));
    }

    @Test
    void readsBothLayouts() throws Exception {
        ClapTextConfig audioldm = load(TestData.conformanceCase("tiny-audioldm")).config();
        assertEquals(new ClapTextConfig(50265, 32, 5, 4, 37, 514, 1, 1e-5, 1, 32, false), audioldm);
        // a whole ClapModel: text settings from text_config (ClapTextConfig defaults elsewhere),
        // the projection size from the top level
        ClapTextConfig musicldm = load(TestData.conformanceCase("tiny-musicldm")).config();
        assertEquals(new ClapTextConfig(50265, 16, 2, 2, 37, 514, 1, 1e-5, 1, 32, true), musicldm);
    }

    @Test
    void missingWeightIsNamed() {
        String key = "text_model.encoder.layer.1.attention.self.key.bias";
        ModelLoadException e = loadFails("tiny-audioldm", c -> c.tensors().remove(key));
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }

    @Test
    void wrongShapeIsNamed() {
        String key = "text_projection.linear1.weight";
        ModelLoadException e = loadFails("tiny-audioldm", c -> c.tensors().put(key, ComponentCopy.zeros(32, 33)));
        assertTrue(e.getMessage().contains(key) && e.getMessage().contains("[32, 33]"), e.getMessage());
    }

    @Test
    void unexpectedWeightIsReported() {
        ModelLoadException e = loadFails("tiny-musicldm",
                c -> c.tensors().put("text_model.encoder.layer.2.output.dense.weight", ComponentCopy.zeros(16, 37)));
        assertTrue(e.getMessage().contains("text_model.encoder.layer.2.output.dense.weight"), e.getMessage());
    }

    @Test
    void unknownConfigKeyIsNamed() {
        ModelLoadException e = loadFails("tiny-audioldm", c -> c.config().put("rotary_dim", 8L));
        assertTrue(e.getMessage().contains("rotary_dim"), e.getMessage());
    }

    @Test
    @SuppressWarnings("unchecked")
    void unknownKeyInTextConfigIsNamed() {
        ModelLoadException e = loadFails("tiny-musicldm",
                c -> ((Map<String, Object>) c.config().get("text_config")).put("rotary_dim", 8L));
        assertTrue(e.getMessage().contains("rotary_dim") && e.getMessage().contains("text_config"), e.getMessage());
    }

    @Test
    void unsupportedOptionsAreNamed() {
        ModelLoadException act = loadFails("tiny-audioldm", c -> c.config().put("hidden_act", "gelu_new"));
        assertTrue(act.getMessage().contains("hidden_act"), act.getMessage());
        ModelLoadException decoder = loadFails("tiny-audioldm", c -> c.config().put("is_decoder", true));
        assertTrue(decoder.getMessage().contains("is_decoder"), decoder.getMessage());
        ModelLoadException proj = loadFails("tiny-musicldm", c -> c.config().put("projection_hidden_act", "tanh"));
        assertTrue(proj.getMessage().contains("projection_hidden_act"), proj.getMessage());
    }

    @Test
    void badInputIsRejectedBeforeComputing() throws Exception {
        try (ComponentFiles files = ComponentFiles.open(TestData.conformanceCase("tiny-audioldm"), "text_encoder")) {
            checkBadInput(ClapTextEncoder.load(files, Backends.scalar()));
        }
    }

    private static void checkBadInput(ClapTextEncoder encoder) {
        long[] ids = {0, 100, 2, 1};
        long[] mask = {1, 1, 1, 0};
        assertThrows(IllegalArgumentException.class, () -> encoder.encode(ids, new long[] {0, 0, 0, 0}));
        assertThrows(IllegalArgumentException.class, () -> encoder.encode(ids, new long[] {1, 1, 2, 0}));
        assertThrows(IllegalArgumentException.class, () -> encoder.encode(ids, new long[] {1, 1}));
        assertThrows(IllegalArgumentException.class, () -> encoder.encode(new long[] {0, 50265, 2, 1}, mask));
        assertThrows(IllegalArgumentException.class, () -> encoder.encode(new long[] {0, -3, 2, 1}, mask));
        long[] tooLong = new long[600];
        java.util.Arrays.fill(tooLong, 100);
        long[] allReal = new long[600];
        java.util.Arrays.fill(allReal, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> encoder.encode(tooLong, allReal));
        assertTrue(e.getMessage().contains("512"), e.getMessage());
    }
}
