package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.euterpe.converter.Converter;
import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance for one-file models: tiny-audioldm replayed from its folder and from the file the
 * converter makes of it (from safetensors, from the fp32 .bin variant) gives the same records,
 * value for value; the fp16 .bin variant, whose weights stay half precision, is judged by SNR
 * against the float32 goldens (at least {@value ConformanceRunner#SNR_16BIT_DB} dB per record).
 */
class OneFileConformanceTest {
    /** The scalar reference backend, until the CPU kernels land. */
    private static final Backend BACKEND = Backends.scalar();
    /** Every record kind but the full runs, which repeat what the model records check, slowly. */
    private static final Set<String> KINDS = Set.of("models");

    private static Path tinyCase;
    private static List<ConformanceRunner.Result> folderResults;

    @TempDir
    Path tmp;

    @BeforeAll
    static void replayTheFolder() throws Exception {
        tinyCase = TestData.conformanceCase("tiny-audioldm");
        folderResults = replay(null, Precision.AS_STORED);
        assertTrue(folderResults.size() > 20, "the case has model records: " + folderResults.size());
        assertTrue(folderResults.stream().allMatch(ConformanceRunner.Result::pass), () -> "the folder replays green: "
                + folderResults.stream().filter(r -> !r.pass()).toList());
    }

    private static List<ConformanceRunner.Result> replay(Path model, Precision precision) throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return new ConformanceRunner(tinyCase, model, BACKEND, precision, KINDS, quiet).run();
    }

    @Test
    void oneFileFromSafetensorsReproducesTheFolderRecordsExactly() throws Exception {
        Path file = tmp.resolve("tiny.safetensors");
        Converter.convert(tinyCase, file, DType.F32);
        assertSameRecords(folderResults, replay(file, Precision.AS_STORED));
    }

    @Test
    void oneFileFromFp32BinReproducesTheFolderRecordsExactly() throws Exception {
        Path bin = TestData.sharedOrSkip("conformance/tiny-audioldm-bin/fp32");
        Path file = tmp.resolve("tiny-bin.safetensors");
        Converter.convert(bin, file, Precision.AS_STORED);
        assertSameRecords(folderResults, replay(file, Precision.AS_STORED));
        // and the .bin folder itself, converted in memory at load
        assertSameRecords(folderResults, replay(bin, Precision.AS_STORED));
    }

    @Test
    void fp16BinStaysHalfAndMeetsTheSixteenBitSnrFloor() throws Exception {
        Path bin = TestData.sharedOrSkip("conformance/tiny-audioldm-bin/fp16");
        Path file = tmp.resolve("tiny-fp16.safetensors");
        Converter.convert(bin, file, Precision.AS_STORED);
        List<ConformanceRunner.Result> results = replay(file, Precision.AS_STORED);
        assertEquals(names(folderResults), names(results));
        for (ConformanceRunner.Result r : results) {
            assertTrue(r.pass(), () -> r.name() + ": " + r);
            if (!Double.isNaN(r.snrDb())) {
                assertEquals(ConformanceRunner.SNR_16BIT_DB, r.tolerance(), r.name());
            }
        }
        assertTrue(results.stream().anyMatch(r -> !Double.isNaN(r.snrDb())), "judged by SNR");
        // half precision is not exact: a record that matched float32 to the last bit would mean F32 weights
        assertFalse(results.stream().allMatch(r -> r.maxAbs() == 0), "F16 weights change the values");
    }

    private static List<String> names(List<ConformanceRunner.Result> rs) {
        return rs.stream().map(ConformanceRunner.Result::name).toList();
    }

    /** Same records, same verdicts, same errors to the last bit (the same weights, the same ops). */
    private static void assertSameRecords(List<ConformanceRunner.Result> expected, List<ConformanceRunner.Result> got) {
        assertEquals(names(expected), names(got));
        for (int i = 0; i < expected.size(); i++) {
            ConformanceRunner.Result e = expected.get(i);
            ConformanceRunner.Result g = got.get(i);
            assertEquals(e.pass(), g.pass(), e.name());
            assertEquals(Double.doubleToLongBits(e.maxAbs()), Double.doubleToLongBits(g.maxAbs()),
                    e.name() + ": max_abs " + e.maxAbs() + " vs " + g.maxAbs());
        }
    }
}
