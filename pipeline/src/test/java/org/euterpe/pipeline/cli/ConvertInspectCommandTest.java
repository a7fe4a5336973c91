package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code euterpe convert} and {@code euterpe inspect} through {@link Main}, on tiny-audioldm. */
class ConvertInspectCommandTest {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void convertsToBf16ReportsEachComponentAndInspectShowsIt() throws Exception {
        Path src = TestData.conformanceCase("tiny-audioldm");
        Path dst = tmp.resolve("tiny-bf16.safetensors");
        assertEquals(0, run("convert", src.toString(), dst.toString(), "--dtype", "bf16"), err());
        for (String c : new String[] {"text_encoder", "unet", "vae", "vocoder"}) {
            assertTrue(out().contains("  " + c), c + " in:\n" + out());
        }
        assertTrue(out().contains("unet/diffusion_pytorch_model.safetensors (safetensors, F32)"), out());
        assertTrue(out().contains("wrote " + dst), out());
        try (SafetensorsFile f = SafetensorsFile.open(dst)) {
            assertEquals(DType.BF16, f.entry("unet.conv_in.weight").dtype());
            assertEquals(DType.F32, f.entry("unet.conv_in.bias").dtype());
            assertEquals(DType.F16, f.entry("vae.decoder.conv_in.weight").dtype()); // the bf16 default for the VAE
            // and for the text encoder (Precision.recommended)
            assertEquals(DType.F16, f.entry("text_encoder.text_model.encoder.layer.0.attention.self.query.weight")
                    .dtype());
        }

        assertEquals(0, run("inspect", dst.toString()), err());
        String shown = out();
        assertTrue(shown.contains("format         version 1"), shown);
        assertTrue(shown.contains("weights        BF16, overrides {\"text_encoder\":\"F16\",\"vae\":\"F16\"}"), shown);
        assertTrue(shown.contains("pipeline       AudioLDMPipeline"), shown);
        assertTrue(shown.matches("(?s).*\\nunet +[0-9.]+ M parameters in 306 tensors; BF16 \\d+ .*F32 \\d+ .*"), shown);
        assertTrue(shown.contains("unet/config.json:\n{\n  \"_class_name\": \"UNet2DConditionModel\""), shown);
        assertTrue(shown.contains("converted from:"), shown);
        assertTrue(shown.contains("unet/diffusion_pytorch_model.safetensors"), shown);
    }

    @Test
    void int8WithTheVocoderKeptF32() throws Exception {
        Path dst = tmp.resolve("tiny-int8.safetensors");
        assertEquals(0, run("convert", TestData.conformanceCase("tiny-audioldm").toString(), dst.toString(),
                "--dtype", "int8", "--keep-f32", "vocoder"), err());
        assertTrue(out().contains("weights I8 (text_encoder: F16, vocoder: F32)"), out());
        try (SafetensorsFile f = SafetensorsFile.open(dst)) {
            assertEquals(DType.I8, f.entry("unet.conv_in.weight").dtype());
            assertEquals(DType.F32, f.entry("unet.conv_in.weight.__scale").dtype());
            assertEquals(DType.F32, f.entry("vocoder.conv_pre.weight").dtype());
        }
    }

    @Test
    void badRequestsAreOneLineErrorsAndWriteNothing() throws Exception {
        Path src = TestData.conformanceCase("tiny-audioldm");
        Path dst = tmp.resolve("x.safetensors");
        assertEquals(2, run("convert", src.toString(), dst.toString(), "--dtype", "int4"));
        assertTrue(err().contains("unknown weight dtype \"int4\""), err());
        assertEquals(2, run("convert", tmp.resolve("absent").toString(), dst.toString()));
        assertTrue(err().contains("no such folder"), err());
        assertEquals(2, run("convert", src.toString()));
        assertFalse(Files.exists(dst));

        Files.writeString(dst, "keep me");
        assertEquals(2, run("convert", src.toString(), dst.toString()));
        assertTrue(err().contains("pass --force"), err());
        assertEquals("keep me", Files.readString(dst));

        assertEquals(2, run("inspect", src.toString()));
        assertTrue(err().contains("is a folder"), err());
        assertEquals(2, run("inspect", src.resolve("unet/diffusion_pytorch_model.safetensors").toString()));
        assertTrue(err().contains("not a Euterpe model"), err());
    }
}
