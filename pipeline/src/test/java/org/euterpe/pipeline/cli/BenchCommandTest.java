package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.euterpe.converter.Converter;
import org.euterpe.pipeline.BundledModel;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoke tests of {@code euterpe bench} on the bundled tiny model (timings are not checked). */
class BenchCommandTest {
    @Test
    void benchesOneStageOfARandomModelAsJson() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(new String[] {
                        "bench", "--random", "--stage", "vocoder", "--seconds", "0.5", "--repeat", "1", "--json",
                        "--device", "cpu"});
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        JsonObject report = new JsonObject(Json.parse(out.toString(StandardCharsets.UTF_8).strip()), "bench");
        JsonObject stages = report.getObject("stages");
        assertEquals(java.util.Set.of("vocoder"), stages.map().keySet());
        JsonObject voc = stages.getObject("vocoder");
        assertTrue(voc.getDouble("median_s") > 0);
        assertTrue(voc.getDouble("gflop") > 0, "the vocoder's convolutions were counted");
        assertTrue(report.getDouble("peak_rss_mb") != 0);
    }

    @Test
    void benchesEachLengthOfASecondsListWithOnlyTheStagesComponents() {
        // A random build holds only the stage's components: the VAE stage has no vocoder to count chunks with.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(new String[] {
                        "bench", "--random", "--stage", "vae_decode,vocoder", "--seconds-list", "0.25,0.5",
                        "--repeat", "1", "--json", "--device", "cpu"});
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        JsonObject report = new JsonObject(Json.parse(out.toString(StandardCharsets.UTF_8).strip()), "bench");
        java.util.List<?> lengths = (java.util.List<?>) report.map().get("lengths");
        assertEquals(2, lengths.size());
        for (Object l : lengths) {
            JsonObject length = new JsonObject(l, "length");
            assertEquals(java.util.Set.of("vae_decode", "vocoder"), length.getObject("stages").map().keySet());
            assertEquals(1.0, length.getDouble("vocoder_chunks"), "the vocoder stage counts its chunks");
        }
    }

    @Test
    void benchesAConvertedOneFileModel(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("tiny.safetensors");
        Converter.convert(BundledModel.folder(), file, DType.F32);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(new String[] {
                        "bench", "--model", file.toString(), "--stage", "vae_decode,total", "--seconds", "0.5",
                        "--steps", "1", "--repeat", "1", "--json", "--device", "cpu"});
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        JsonObject report = new JsonObject(Json.parse(out.toString(StandardCharsets.UTF_8).strip()), "bench");
        assertEquals("loaded", report.getString("weights"));
        assertEquals("release_after_stage", report.getString("weight_residency"));
        assertEquals(java.util.Set.of("vae_decode", "total"), report.getObject("stages").map().keySet());
    }

    @Test
    void benchesStableAudioWithInt8WeightsAsTheConverterStoresThem() throws Exception {
        Path tiny = org.euterpe.tensor.TestData.conformanceCase("tiny-stable-audio");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(new String[] {
                        "bench", "--model", tiny.toString(), "--stage", "dit,vae_decode", "--dtype", "int8",
                        "--seconds", "1", "--repeat", "1", "--json", "--device", "cpu"});
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        JsonObject report = new JsonObject(Json.parse(out.toString(StandardCharsets.UTF_8).strip()), "bench");
        assertEquals("random-int8 (I8 (text_encoder: F16))", report.getString("weights"));
        assertEquals(java.util.Set.of("dit", "vae_decode"), report.getObject("stages").map().keySet());
        assertTrue(report.getObject("stages").getObject("dit").getDouble("gflop") > 0);

        ByteArrayOutputStream bad = new ByteArrayOutputStream();
        rc = new Main(System.out, new PrintStream(bad, true, StandardCharsets.UTF_8)).run(new String[] {
                "bench", "--model", tiny.toString(), "--dtype", "int4"});
        assertEquals(2, rc);
        assertTrue(bad.toString(StandardCharsets.UTF_8).contains("int4"), bad.toString(StandardCharsets.UTF_8));
    }

    @Test
    void rejectsAnUnknownStage() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new Main(System.out, new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(new String[] {"bench", "--stage", "unett"});
        assertEquals(2, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown stage \"unett\""));
    }
}
