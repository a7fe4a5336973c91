package org.euterpe.pipeline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.euterpe.tensor.json.Json;

/**
 * Fuzzes the generation request parser with arbitrary bytes. Allowed outcomes: a {@link JobSpec}
 * within the {@link Limits} whose fields are what the body says (re-read independently), or an
 * {@link ApiError} with status 400 or 413 and a message. Anything else (another exception, a spec
 * beyond the limits, a hang) is a finding.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code RequestParserFuzzTestInputs/parse/} as a plain test.
 */
class RequestParserFuzzTest {
    private static final Limits LIMITS = Limits.defaults().withRequestLimits(64, 30, 100, 4).withMaxBodyBytes(4096);

    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void parse(byte[] body) {
        JobSpec spec;
        try {
            spec = RequestParser.parse(body, LIMITS);
        } catch (ApiError e) {
            assertTrue(e.status() == 400 || e.status() == 413, () -> "status " + e.status());
            assertNotNull(e.getMessage());
            assertTrue(e.status() != 413 || body.length > LIMITS.maxBodyBytes());
            Json.write(e.body()); // the error body is always writable JSON
            return;
        }
        assertTrue(body.length <= LIMITS.maxBodyBytes());
        Map<?, ?> m = (Map<?, ?>) Json.parse(new String(body, StandardCharsets.UTF_8));
        assertEquals(m.get("prompt"), spec.prompt());
        assertTrue(spec.prompt() == null || !spec.prompt().isBlank() && spec.prompt().length() <= LIMITS.maxPromptChars());
        assertTrue(spec.seconds() == null || spec.seconds() > 0 && spec.seconds() <= LIMITS.maxSeconds());
        assertTrue(spec.steps() == null || spec.steps() >= 1 && spec.steps() <= LIMITS.maxSteps());
        assertTrue(spec.count() >= 1 && spec.count() <= LIMITS.maxCount());
        assertTrue(spec.seed() >= 0 && spec.seed() <= RequestParser.MAX_SEED);
        assertTrue(spec.format().equals("wav") || spec.format().equals("float"));
        assertTrue(RequestParser.FIELDS.containsAll(m.keySet().stream().map(Object::toString).toList()));
        Json.write(spec.toJson()); // the job status can always be written
        PipelineEngine.request(spec); // and the pipeline takes every spec the parser lets through
    }
}
