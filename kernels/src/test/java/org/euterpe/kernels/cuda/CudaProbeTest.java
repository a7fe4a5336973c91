package org.euterpe.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.euterpe.kernels.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * How the CUDA backend behaves where it cannot run, and that the engine only touches JCuda when
 * a CUDA device is asked for.
 */
class CudaProbeTest {
    private static final List<String> DRIVER_PATHS = List.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1",
            "/usr/lib64/libcuda.so.1", "/usr/lib/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1");

    private static boolean driverInstalled() {
        return DRIVER_PATHS.stream().anyMatch(p -> Files.exists(Path.of(p)));
    }

    @Test
    void openWithoutDriverSaysSo() {
        Assumptions.assumeFalse(driverInstalled(), "an NVIDIA driver is installed here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaBackend.open("cuda"));
        assertTrue(e.getMessage().startsWith("no NVIDIA driver (libcuda.so not found"), e.getMessage());
        // A second attempt (JCuda's classes are now in a failed state) gives the same reason.
        IllegalStateException again = assertThrows(IllegalStateException.class, () -> CudaBackend.open("cuda:1"));
        assertEquals(e.getMessage(), again.getMessage());
    }

    @Test
    void probeReportsTheReason() {
        Backends.Probe p = Backends.probe("cuda");
        if (p.available()) {
            p.backend().close();
            Assumptions.abort("a CUDA device opened here: " + p.backend().description());
        }
        System.out.println("cuda probe reason: " + p.reason());
        assertNull(p.backend());
        // What the user reads: the message, not a Java class name.
        assertFalse(p.reason().contains("Exception"), p.reason());
        if (!driverInstalled()) {
            assertTrue(p.reason().contains("no NVIDIA driver (libcuda.so not found"), p.reason());
        }
    }

    @Test
    void deviceNamesAreParsed() {
        assertEquals(0, CudaBackend.ordinal("cuda"));
        assertEquals(3, CudaBackend.ordinal("CUDA:3"));
        for (String bad : new String[] {"cuda:", "cuda:-1", "cuda:x", "gpu"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaBackend.ordinal(bad));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }

    /**
     * In a fresh class loader, using the CPU backends loads no JCuda class and not the CUDA
     * backend; probing "cuda" does load the CUDA backend (so the check can see a load at all).
     */
    @Test
    void cpuUseNeverLoadsJcuda() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            urls.add(Path.of(entry).toUri().toURL());
        }
        try (Isolated loader = new Isolated(urls.toArray(URL[]::new))) {
            Class<?> backends = loader.loadClass("org.euterpe.kernels.Backends");
            Object cpu = backends.getMethod("probe", String.class).invoke(null, "cpu");
            assertNotNull(cpu.getClass().getMethod("backend").invoke(cpu));
            backends.getMethod("scalar").invoke(null);
            for (String c : new String[] {"jcuda.driver.JCudaDriver", "jcuda.Pointer", "jcuda.LibUtils",
                    "org.euterpe.kernels.cuda.CudaBackend"}) {
                assertFalse(loader.loaded(c), c + " was loaded by CPU-only use");
            }
            backends.getMethod("probe", String.class).invoke(null, "cuda");
            assertTrue(loader.loaded("org.euterpe.kernels.cuda.CudaBackend"), "probing cuda loads its backend");
        }
    }

    /** Loads everything itself (the platform loader below it), and says what it has loaded. */
    private static final class Isolated extends URLClassLoader {
        Isolated(URL[] urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }
    }
}
