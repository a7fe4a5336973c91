package org.euterpe.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed PTX is what the sources compile to: kernels/scripts/build-ptx.sh, run with the
 * nvcc found here, reproduces every file byte for byte (nvcc's header comment, which names the
 * compiler build, aside). And every committed module passes ptxas for its target, which is what
 * the driver's JIT runs when it loads it. Both need a CUDA toolkit and are skipped without one.
 */
class PtxSourcesTest {

    @Test
    void buildScriptReproducesTheCommittedPtx(@TempDir Path out) throws Exception {
        Path nvcc = Nvcc.require();
        Set<String> committed = ptxFiles(Nvcc.resources());
        String committedRelease = release(Files.readString(Nvcc.resources().resolve("gemm.ptx")));
        String localRelease = release(Nvcc.run(List.of(nvcc.toString(), "--version"), Nvcc.moduleDir()));
        Assumptions.assumeTrue(committedRelease.equals(localRelease), "the committed PTX is from CUDA "
                + committedRelease + ", this nvcc is " + localRelease + ": rerun kernels/scripts/build-ptx.sh");

        Nvcc.run(List.of("bash", "scripts/build-ptx.sh", out.toString()), Nvcc.moduleDir(), "NVCC", nvcc.toString());

        assertEquals(committed, ptxFiles(out), "PTX files the script makes vs the committed ones");
        for (String f : committed) {
            String fresh = body(Files.readString(out.resolve(f), StandardCharsets.US_ASCII));
            String kept = body(Files.readString(Nvcc.resources().resolve(f), StandardCharsets.US_ASCII));
            assertTrue(fresh.equals(kept), f + " is stale: rerun kernels/scripts/build-ptx.sh and commit the result");
        }
    }

    /** One PTX per kernel source, and each module defines kernels. */
    @Test
    void everySourceHasItsModule() throws IOException {
        Set<String> expected = new TreeSet<>();
        try (Stream<Path> s = Files.list(Nvcc.sources())) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .forEach(n -> expected.add(n.equals("mma.cu") ? "mma.sm80.ptx" : n.replace(".cu", ".ptx")));
        }
        assertEquals(expected, ptxFiles(Nvcc.resources()));
        List<String> modules = new ArrayList<>(CudaContext.MODULES);
        modules.add(CudaContext.MMA_MODULE);
        for (String m : modules) {
            assertFalse(CudaContext.entries(CudaContext.resource(m + ".ptx")).isEmpty(), m + " defines no kernels");
        }
    }

    @Test
    void ptxasAcceptsEveryModule(@TempDir Path out) throws Exception {
        Path ptxas = Nvcc.require().resolveSibling("ptxas");
        for (String f : ptxFiles(Nvcc.resources())) {
            String arch = f.endsWith(".sm80.ptx") ? "sm_80" : "sm_75";
            Nvcc.run(List.of(ptxas.toString(), "-arch=" + arch, "-o", out.resolve(f + ".cubin").toString(),
                    Nvcc.resources().resolve(f).toString()), out);
        }
    }

    private static Set<String> ptxFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ptx")).toList());
        }
    }

    /** The PTX without nvcc's leading comment block (compiler build and release). */
    private static String body(String ptx) {
        List<String> lines = ptx.lines().toList();
        int i = 0;
        while (i < lines.size() && (lines.get(i).startsWith("//") || lines.get(i).isBlank())) {
            i++;
        }
        assertTrue(i < lines.size(), "a PTX file with nothing but comments");
        return String.join("\n", lines.subList(i, lines.size()));
    }

    /** "13.0" from "Cuda compilation tools, release 13.0, V13.0.88". */
    private static String release(String text) {
        int at = text.indexOf("release ");
        assertTrue(at >= 0, "no CUDA release named in: " + text);
        return text.substring(at + 8, text.indexOf(',', at));
    }
}
