package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import org.euterpe.converter.Converter;
import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link AudioModel#load} accepts and how it refuses the rest. */
class AudioModelLoadTest {
    @TempDir
    Path tmp;

    @Test
    void aFolderConvertedInMemoryAtBf16HasBf16WeightsAndAnF16Vae() throws Exception {
        try (AudioModel m = AudioModel.load(TestData.conformanceCase("tiny-audioldm"), Backends.scalar(),
                Precision.recommended(DType.BF16))) {
            assertEquals(Set.of(DType.BF16, DType.F32), m.weightDtypes().get("unet"));
            assertEquals(Set.of(DType.F16, DType.F32), m.weightDtypes().get("vae"));
            assertTrue(m.loadInfo().kind().contains("converted in memory"), m.loadInfo().kind());
            assertTrue(m.loadInfo().seconds() > 0);
        }
    }

    @Test
    void aOneFileModelTakesItsConfigsFromTheMetadata() throws Exception {
        Path file = tmp.resolve("tiny.safetensors");
        Converter.convert(TestData.conformanceCase("tiny-audioldm"), file, DType.F16);
        try (AudioModel m = AudioModel.load(file, Backends.scalar())) {
            assertEquals(AudioModel.Family.AUDIOLDM, m.family());
            assertEquals(Set.of(DType.F16, DType.F32), m.weightDtypes().get("unet"));
            assertEquals("DDIMScheduler", m.schedulerConfig().getString("_class_name"));
            assertTrue(m.loadInfo().kind().startsWith("one file (F16)"), m.loadInfo().kind());
            assertTrue(m.tokenizer().encodeUntruncated("a dog").inputIds().length > 2);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AudioModel.load(file, Backends.scalar(), Precision.of(DType.I8)));
        assertTrue(e.getMessage().contains("convert the folder again"), e.getMessage());
    }

    @Test
    void filesThatAreNotEuterpeModelsAreRefusedByName() throws Exception {
        Path plain = TestData.conformanceCase("tiny-audioldm").resolve("unet/diffusion_pytorch_model.safetensors");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> AudioModel.load(plain, Backends.scalar()));
        assertTrue(e.getMessage().contains("not a Euterpe model"), e.getMessage());

        Path future = tmp.resolve("future.safetensors");
        new SafetensorsWriter().metadata(Map.of(Converter.FORMAT_VERSION_KEY, "99"))
                .add("unet.x", Shape.of(1), new float[] {1}).write(future);
        e = assertThrows(ModelLoadException.class, () -> AudioModel.load(future, Backends.scalar()));
        assertTrue(e.getMessage().contains("format version 99"), e.getMessage());

        Path garbage = tmp.resolve("garbage.safetensors");
        Files.writeString(garbage, "not a model at all");
        e = assertThrows(ModelLoadException.class, () -> AudioModel.load(garbage, Backends.scalar()));
        assertTrue(e.getMessage().contains("neither a model folder nor a valid one-file model"), e.getMessage());

        assertThrows(NoSuchFileException.class, () -> AudioModel.load(tmp.resolve("absent"), Backends.scalar()));
        e = assertThrows(ModelLoadException.class, () -> AudioModel.load(tmp, Backends.scalar()));
        assertTrue(e.getMessage().contains("no model_index.json"), e.getMessage());
    }

    @Test
    void aOneFileModelMissingAComponentNamesIt() throws Exception {
        Path file = tmp.resolve("partial.safetensors");
        Path tiny = TestData.conformanceCase("tiny-audioldm");
        SafetensorsWriter w = new SafetensorsWriter().metadata(Map.of(Converter.FORMAT_VERSION_KEY,
                Converter.FORMAT_VERSION, "model_index.json", Files.readString(tiny.resolve("model_index.json"))));
        w.add("unet.x", Shape.of(1), new float[] {1}).write(file);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> AudioModel.load(file, Backends.scalar()));
        assertTrue(e.getMessage().contains("has no tokenizer/vocab.json"), e.getMessage());
    }
}
