package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublishedWeightsTest {
    @TempDir
    Path tmp;

    @Test
    void streamedSha256EqualsTheOneShotDigest() throws Exception {
        byte[] data = new byte[3 * (1 << 20) + 12345]; // several read buffers and a partial one
        new Random(1).nextBytes(data);
        Path file = tmp.resolve("data");
        Files.write(file, data);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        assertEquals(expected, Sha256.of(file));
    }

    @Test
    void findsAPublishedFileByItsHash() {
        PublishedWeights.File f = PublishedWeights
                .bySha256("D30778D539A99DD15D24E922116A0303BA4C81FFB49F392B69D47CB6E1F7AEE6").orElseThrow();
        assertEquals("the published cvssp/audioldm-s-full-v2 unet/diffusion_pytorch_model.bin", f.describe());
        assertEquals(740429981L, f.bytes());
        assertTrue(PublishedWeights.bySha256("00".repeat(32)).isEmpty());
    }

    /** The embedded table is the data of model-configs/PUBLISHED-WEIGHTS.md. */
    @Test
    void tableMatchesTheSharedDocument() throws Exception {
        String doc = Files.readString(TestData.sharedOrSkip("model-configs/PUBLISHED-WEIGHTS.md"));
        Set<String> fromDoc = new TreeSet<>();
        Matcher row = Pattern.compile("\\| (\\S+) \\| (\\d+) \\| ([0-9a-f]{64}) \\|").matcher(doc);
        while (row.find()) {
            fromDoc.add(row.group(1) + " " + row.group(2) + " " + row.group(3));
        }
        Matcher tok = Pattern.compile("(vocab\\.json|merges\\.txt)\\s+([0-9a-f]{64})").matcher(doc);
        while (tok.find()) {
            fromDoc.add("tokenizer/" + tok.group(1) + " -1 " + tok.group(2));
        }
        Set<String> embedded = new TreeSet<>();
        for (PublishedWeights.File f : PublishedWeights.all()) {
            assertEquals("cvssp/audioldm-s-full-v2", f.repository());
            embedded.add(f.path() + " " + f.bytes() + " " + f.sha256());
        }
        assertEquals(fromDoc, embedded);
    }
}
