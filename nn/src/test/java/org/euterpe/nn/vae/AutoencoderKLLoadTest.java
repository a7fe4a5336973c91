package org.euterpe.nn.vae;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.euterpe.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A VAE that does not fit its files fails at load with a ModelLoadException naming the problem. */
class AutoencoderKLLoadTest {
    @TempDir
    Path tmp;

    /** A copy of tiny-audioldm's vae/ with the config edited by {@code edit}. */
    private Path pipeline(UnaryOperator<String> edit) throws IOException {
        Path src = TestData.conformanceCase("tiny-audioldm").resolve("vae");
        Path dst = tmp.resolve("vae");
        Files.createDirectories(dst);
        Files.writeString(dst.resolve("config.json"), edit.apply(Files.readString(src.resolve("config.json"))));
        Files.copy(src.resolve("diffusion_pytorch_model.safetensors"),
                dst.resolve("diffusion_pytorch_model.safetensors"));
        return tmp;
    }

    private String loadError(Path pipelineDir) throws IOException {
        try (ComponentFiles files = AutoencoderKL.open(pipelineDir)) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> AutoencoderKL.load(files, Backends.scalar()));
            System.out.println("  expected load error: " + e.getMessage());
            return e.getMessage();
        }
    }

    @Test
    void unknownConfigKeyIsNamed() throws IOException {
        String msg = loadError(pipeline(c -> c.replaceFirst("\\{", "{\"mystery_option\": 3,")));
        assertTrue(msg.contains("mystery_option"), msg);
    }

    @Test
    void unsupportedBlockTypeIsNamed() throws IOException {
        String msg = loadError(pipeline(c -> c.replaceFirst("\"DownEncoderBlock2D\"", "\"AttnDownEncoderBlock2D\"")));
        assertTrue(msg.contains("down_block_types") && msg.contains("AttnDownEncoderBlock2D"), msg);
    }

    @Test
    void missingWeightIsNamed() throws IOException {
        // two resnets per block: the checkpoint has one
        String msg = loadError(pipeline(c -> c.replaceFirst("\"layers_per_block\": 1", "\"layers_per_block\": 2")));
        assertTrue(msg.contains("encoder.down_blocks.0.resnets.1."), msg);
    }

    @Test
    void wrongShapeIsNamed() throws IOException {
        // 8 latent channels: the encoder's conv_out should then produce 16, the checkpoint's produces 8
        String msg = loadError(pipeline(c -> c.replaceFirst("\"latent_channels\": 4", "\"latent_channels\": 8")));
        assertTrue(msg.contains("encoder.conv_out.weight") && msg.contains("[8, 64, 3, 3]"), msg);
    }

    @Test
    void unexpectedWeightIsNamed() throws IOException {
        Path dir = pipeline(c -> c);
        Path weights = dir.resolve("vae/diffusion_pytorch_model.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (String n : f.names()) {
                writer.add(n, f.entry(n).shape(), f.floats(n));
            }
        }
        writer.add("decoder.stray.weight", Shape.of(2), new float[] {1, 2}).write(weights);
        String msg = loadError(dir);
        assertTrue(msg.contains("decoder.stray.weight"), msg);
    }
}
