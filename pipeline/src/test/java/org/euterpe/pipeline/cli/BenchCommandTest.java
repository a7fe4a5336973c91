package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.junit.jupiter.api.Test;

/** A smoke test of {@code euterpe bench} on the bundled tiny model's configs (timings are not checked). */
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
    void rejectsAnUnknownStage() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new Main(System.out, new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(new String[] {"bench", "--stage", "unett"});
        assertEquals(2, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown stage \"unett\""));
    }
}
