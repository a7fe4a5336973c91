package org.euterpe.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA kernels' logic on the CPU: kernels/src/test/cuda/kernel_checks.cpp compiles the
 * kernel sources against a CPU emulation of the CUDA features they use and compares every kernel
 * with a plain double reference. This is no substitute for a GPU run (see the kernels README),
 * but it catches indexing, tiling and reduction mistakes where no GPU is at hand. Needs g++.
 */
class KernelEmulationTest {

    @Test
    void everyKernelMatchesItsReferenceOnTheEmulator(@TempDir Path tmp) throws Exception {
        Path gxx = Path.of("/usr/bin/g++");
        Assumptions.assumeTrue(Files.isExecutable(gxx), "g++ not found at /usr/bin/g++: the kernel emulator cannot be built");
        Path dir = Nvcc.moduleDir().resolve("src/test/cuda");
        Path exe = tmp.resolve("kernel_checks");
        Nvcc.run(List.of(gxx.toString(), "-std=c++20", "-O1", "-pthread", "-Iinclude", "-I../../main/cuda",
                "-include", "cuda_emu.h", "kernel_checks.cpp", "-o", exe.toString()), dir);
        String out = Nvcc.run(List.of(exe.toString()), dir);
        System.out.print(out);
        assertTrue(out.contains("\n0 failures"), out);
    }
}
