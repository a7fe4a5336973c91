package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Holdout cases carry no weights: golden.json says {@code model_dir: null} and names the
 * conformance case whose weights they reuse ({@code model_case}), which sits beside them.
 */
class HoldoutLayoutTest {
    @TempDir
    Path root;

    @Test
    @SuppressWarnings("unchecked")
    void weightsComeFromTheSiblingCaseNamedByModelCase() throws IOException {
        Path real = TestData.conformanceCase("tiny-audioldm");
        Files.createSymbolicLink(root.resolve("tiny-audioldm"), real.toAbsolutePath());
        Path holdout = Files.createDirectory(root.resolve("holdout-tiny-audioldm"));
        Map<String, Object> golden = (Map<String, Object>) Json.parseLenient(
                Files.readString(real.resolve("golden.json")));
        Map<String, Object> g = new LinkedHashMap<>(golden);
        g.put("model_dir", null);
        g.put("model_case", "tiny-audioldm");
        g.put("holdout", true);
        Files.writeString(holdout.resolve("golden.json"), Json.write(sanitise(g)));
        Files.createSymbolicLink(holdout.resolve("golden.safetensors"),
                real.resolve("golden.safetensors").toAbsolutePath());

        assertEquals(root.resolve("tiny-audioldm"), ConformanceRunner.modelDirOf(holdout));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<ConformanceRunner.Result> results = new ConformanceRunner(holdout, null, Backends.cpu(), Precision.AS_STORED,
                Set.of("tokenizer", "vocoder"), new PrintStream(buf, true, StandardCharsets.UTF_8)).run();
        assertTrue(results.size() > 10 && results.stream().allMatch(ConformanceRunner.Result::pass),
                buf.toString(StandardCharsets.UTF_8));

        // Without the sibling, the error says where the weights were looked for.
        Files.delete(root.resolve("tiny-audioldm"));
        IOException e = assertThrows(IOException.class, () -> ConformanceRunner.modelDirOf(holdout));
        assertTrue(e.getMessage().contains("tiny-audioldm") && e.getMessage().contains("--model"), e.getMessage());
    }

    /** The writer refuses non-finite numbers; the lenient golden has -Infinity in DPM configs. */
    @SuppressWarnings("unchecked")
    static Object sanitise(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put((String) k, sanitise(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            return l.stream().map(HoldoutLayoutTest::sanitise).toList();
        }
        if (v instanceof Double d && !Double.isFinite(d)) {
            return -1e30;
        }
        return v;
    }
}
