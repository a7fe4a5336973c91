package org.euterpe.nn.unet;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/** Config options the UNet does not implement are rejected by name, not run as a different model. */
class UNet2DConditionModelLoadTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "\"resnet_time_scale_shift\": \"default\"|\"resnet_time_scale_shift\": \"scale_shift\"|resnet_time_scale_shift",
        "\"num_attention_heads\": null|\"num_attention_heads\": 8|num_attention_heads",
        "\"only_cross_attention\": false|\"only_cross_attention\": true|only_cross_attention",
        "\"time_embedding_type\": \"positional\"|\"time_embedding_type\": \"fourier\"|time_embedding_type",
        "\"class_embed_type\": \"simple_projection\"|\"class_embed_type\": \"projection\"|class_embed_type",
        "\"up_block_types\": [|\"mystery\": 1, \"up_block_types\": [|mystery",
        "\"DownBlock2D\"|\"SimpleCrossAttnDownBlock2D\"|SimpleCrossAttnDownBlock2D",
        "\"attention_head_dim\": 8|\"attention_head_dim\": [8, 8, 8]|attention_head_dim",
    })
    void unsupportedOptionIsNamed(String from, String to, String named) throws IOException {
        Path src = TestData.conformanceCase("tiny-audioldm").resolve("unet");
        Path dst = tmp.resolve("unet");
        Files.createDirectories(dst);
        String config = Files.readString(src.resolve("config.json"));
        assertTrue(config.contains(from), "fixture: " + from);
        Files.writeString(dst.resolve("config.json"), config.replaceFirst(java.util.regex.Pattern.quote(from),
                java.util.regex.Matcher.quoteReplacement(to)));
        Files.copy(src.resolve("diffusion_pytorch_model.safetensors"), dst.resolve("diffusion_pytorch_model.safetensors"));
        try (ComponentFiles files = UNet2DConditionModel.open(tmp)) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> UNet2DConditionModel.load(files, Backends.scalar()));
            System.out.println("  expected load error: " + e.getMessage());
            assertTrue(e.getMessage().contains(named), e.getMessage());
        }
    }
}
