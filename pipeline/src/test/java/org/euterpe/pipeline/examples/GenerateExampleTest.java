package org.euterpe.pipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.euterpe.pipeline.ChildJvm;
import org.euterpe.tensor.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java API example is this package's {@link GenerateExample}, quoted verbatim (issue
 * 17, item 5: the quoted snippet did not compile, and without the Vector API module it died inside
 * generate with a NoClassDefFoundError).
 */
class GenerateExampleTest {
    @TempDir
    Path tmp;

    private static Path source() {
        return TestData.repoRoot().resolve("pipeline/src/test/java/org/euterpe/pipeline/examples/GenerateExample.java");
    }

    @Test
    void theReadmeQuotesTheCompiledExample() throws Exception {
        String src = Files.readString(source());
        String quoted = src.substring(src.indexOf("import ")); // all but the package line
        String readme = Files.readString(TestData.repoRoot().resolve("README.md"));
        assertTrue(readme.contains(quoted), "README.md does not quote GenerateExample.java from its imports on");
    }

    @Test
    void theExampleGeneratesOnTheBundledModel() throws Exception {
        Path out = tmp.resolve("piano.wav");
        GenerateExample.generate(null, out, 0.1, 2);
        assertTrue(Files.size(out) > 44 + 2 * 1500, "a WAV of 0.1 s at 16 kHz");
    }

    @Test
    void withoutTheVectorModuleLoadSaysWhichFlagToAdd() throws Exception {
        ChildJvm.Result r = ChildJvm.bare().env("EUTERPE_CACHE", tmp.resolve("cache").toString()).in(tmp)
                .run(GenerateExample.class, 120);
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("Euterpe needs the JDK's Vector API: add --add-modules jdk.incubator.vector to"
                + " the java command line"), r.err());
        assertTrue(!r.err().contains("NoClassDefFoundError"), r.err());
        assertEquals(false, Files.exists(tmp.resolve("piano.wav")));
    }
}
