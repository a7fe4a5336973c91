package org.euterpe.pipeline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the multipart/form-data reader with arbitrary Content-Type parameters and bodies. Allowed
 * outcomes: parts whose data are the bytes between a part's headers and the next delimiter (checked:
 * no part's data contains the delimiter, names are unique and non-empty, at most the part limit), or an
 * {@link ApiError} 400/415. Also checks the delimiter search against a naive one.
 *
 * <p>Without {@code JAZZER_FUZZ} this replays {@code MultipartFuzzTestInputs/parse/} as a plain test.
 */
class MultipartFuzzTest {
    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    void parse(FuzzedDataProvider data) {
        String type = "multipart/form-data; boundary=" + data.consumeString(80);
        byte[] body = data.consumeRemainingAsBytes();
        Map<String, Multipart.Part> parts;
        try {
            parts = Multipart.parse(type, body);
        } catch (ApiError e) {
            assertTrue(e.status() == 400 || e.status() == 415, () -> "status " + e.status());
            return;
        }
        String boundary = Multipart.boundary(type);
        byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        assertTrue(parts.size() <= Multipart.MAX_PARTS);
        for (Multipart.Part p : parts.values()) {
            assertTrue(!p.name().isEmpty());
            assertEquals(-1, Multipart.indexOf(p.data(), delimiter, 0), "a part holds the delimiter");
            assertEquals(naive(p.data(), delimiter), Multipart.indexOf(p.data(), delimiter, 0));
        }
        assertEquals(naive(body, delimiter), Multipart.indexOf(body, delimiter, 0));
    }

    private static int naive(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
