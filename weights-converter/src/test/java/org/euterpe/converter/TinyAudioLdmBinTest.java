package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The .bin checkpoints of conformance/tiny-audioldm-bin against the safetensors weights of
 * tiny-audioldm, which the reference states are the same tensors: fp32 bit for bit, fp16 equal to the
 * fp32 values rounded to half (nearest even). The vocoder files are in the test resources; the other
 * components come from ../shared.
 */
class TinyAudioLdmBinTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static Path safetensors(String component, String file) {
        return TestData.conformanceCase("tiny-audioldm").resolve(component).resolve(file);
    }

    private static Path sharedBin(String precision, String component, String file) {
        return TestData.sharedOrSkip("conformance/tiny-audioldm-bin/" + precision + "/" + component + "/" + file);
    }

    @Test
    void vocoderFp32EqualsSafetensorsBitForBit() throws Exception {
        assertSameTensors(Fixtures.resource("vocoder-fp32.bin"), safetensors("vocoder", "model.safetensors"));
    }

    @Test
    void vocoderFp16IsTheFp32WeightsRoundedToHalf() throws Exception {
        assertHalfOf(Fixtures.resource("vocoder-fp16.bin"), safetensors("vocoder", "model.safetensors"));
    }

    @ParameterizedTest
    @CsvSource({
        "unet, diffusion_pytorch_model.bin, diffusion_pytorch_model.safetensors",
        "vae, diffusion_pytorch_model.bin, diffusion_pytorch_model.safetensors",
        "text_encoder, pytorch_model.bin, model.safetensors",
        "vocoder, pytorch_model.bin, model.safetensors",
    })
    void everyComponentFp32EqualsSafetensors(String component, String bin, String st) throws Exception {
        assertSameTensors(sharedBin("fp32", component, bin), safetensors(component, st));
    }

    @ParameterizedTest
    @CsvSource({
        "unet, diffusion_pytorch_model.bin, diffusion_pytorch_model.safetensors",
        "vae, diffusion_pytorch_model.bin, diffusion_pytorch_model.safetensors",
        "text_encoder, pytorch_model.bin, model.safetensors",
        "vocoder, pytorch_model.bin, model.safetensors",
    })
    void everyComponentFp16IsTheFp32WeightsRoundedToHalf(String component, String bin, String st) throws Exception {
        assertHalfOf(sharedBin("fp16", component, bin), safetensors(component, st));
    }

    private static void assertSameTensors(Path bin, Path reference) throws Exception {
        try (CheckpointReader b = CheckpointReader.open(bin); CheckpointReader r = CheckpointReader.open(reference)) {
            assertInstanceOf(TorchCheckpoint.class, b);
            assertEquals(sorted(r.names()), sorted(b.names()));
            for (String name : r.names()) {
                assertEquals(r.info(name), b.info(name), name);
                long mismatch = r.bytes(name).mismatch(b.bytes(name));
                assertEquals(-1, mismatch, name + ": bytes differ at byte " + mismatch);
            }
        }
    }

    private static void assertHalfOf(Path bin, Path reference) throws Exception {
        try (CheckpointReader h = CheckpointReader.open(bin); CheckpointReader r = CheckpointReader.open(reference)) {
            assertEquals(sorted(r.names()), sorted(h.names()));
            int halves = 0;
            for (String name : r.names()) {
                CheckpointReader.TensorInfo ri = r.info(name);
                CheckpointReader.TensorInfo hi = h.info(name);
                assertEquals(ri.shape(), hi.shape(), name);
                MemorySegment rb = r.bytes(name);
                MemorySegment hb = h.bytes(name);
                if (ri.dtype() != DType.F32) { // integer buffers (position_ids) are not cast
                    assertEquals(ri.dtype(), hi.dtype(), name);
                    assertEquals(-1, rb.mismatch(hb), name);
                    continue;
                }
                assertEquals(DType.F16, hi.dtype(), name);
                long n = ri.shape().numel();
                for (long i = 0; i < n; i++) {
                    short expected = Float.floatToFloat16(rb.getAtIndex(F32, i));
                    short actual = hb.getAtIndex(F16, i);
                    if (expected != actual) {
                        assertEquals(expected, actual, name + " element " + i);
                    }
                }
                halves++;
            }
            assertEquals(true, halves > 0, "no F16 tensor compared");
        }
    }

    private static Set<String> sorted(java.util.Collection<String> names) {
        return new TreeSet<>(names);
    }
}
