package org.euterpe.kernels.opencl;

import static org.jocl.CL.*;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/**
 * Builds the kernel sources into one program per device, caching the device binary on disk as
 * {@code <cache>/<device-hash>/<source-hash>.bin} (device hash: platform, device, driver;
 * source hash: every source and the build options), so later runs skip the compiler.
 *
 * <p>Each file is preceded by a {@code #line 1 "file.cl"} directive, so compiler messages name
 * the file they are about.
 */
final class ProgramBuilder {

    /** The kernel files, in build order (common.cl first: the others use its helpers). */
    static final List<String> FILES = List.of("common.cl", "gemm.cl", "conv.cl", "norm.cl", "attention.cl",
            "elementwise.cl", "move.cl",
            "resample.cl", "snake.cl", "stable_audio.cl", "swiglu.cl");

    /** A source file's name and text. */
    record Source(String file, String text) {
    }

    /** The built program and whether it came from the binary cache. */
    record Built(cl_program program, boolean fromCache, Path binary) {
    }

    private ProgramBuilder() {
    }

    /** The cache root: {@code -Deuterpe.opencl.cache=DIR}, else {@code ~/.cache/euterpe/opencl}. */
    static Path defaultCacheDir() {
        String p = System.getProperty("euterpe.opencl.cache");
        return p != null ? Path.of(p) : Path.of(System.getProperty("user.home"), ".cache", "euterpe", "opencl");
    }

    /** The bundled kernel sources. */
    static List<Source> bundledSources() {
        List<Source> out = new ArrayList<>();
        for (String f : FILES) {
            try (InputStream in = ProgramBuilder.class.getResourceAsStream(f)) {
                if (in == null) {
                    throw new IllegalStateException("kernel source " + f + " is missing from the classpath");
                }
                out.add(new Source(f, new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read kernel source " + f, e);
            }
        }
        return out;
    }

    /**
     * Builds {@code sources} for {@code device}, from the cache when a binary for exactly these
     * sources and options is there. A cached binary the driver rejects is rebuilt from source.
     *
     * @throws KernelBuildException naming the device, the file(s) the compiler complains about
     *                              and its log
     */
    static Built build(cl_context context, ClDevice device, List<Source> sources, String options, Path cacheDir) {
        StringBuilder all = new StringBuilder();
        for (Source s : sources) {
            all.append("#line 1 \"").append(s.file()).append("\"\n").append(s.text()).append('\n');
        }
        String source = all.toString();
        Path binary = cacheDir.resolve(hash(device.platformName(), device.name(), device.version(), device.driver()))
                .resolve(hash(source, options) + ".bin");
        cl_device_id[] devs = {device.id()};
        if (Files.isRegularFile(binary)) {
            try {
                byte[] bin = Files.readAllBytes(binary);
                cl_program p = clCreateProgramWithBinary(context, 1, devs, new long[] {bin.length}, new byte[][] {bin},
                        new int[1], null);
                clBuildProgram(p, 1, devs, options, null, null);
                return new Built(p, true, binary);
            } catch (IOException | CLException e) {
                // Stale or foreign binary (e.g. after a driver update): fall through and rebuild.
            }
        }
        cl_program p = clCreateProgramWithSource(context, 1, new String[] {source}, new long[] {source.length()}, null);
        try {
            clBuildProgram(p, 1, devs, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p, device.id());
            clReleaseProgram(p);
            throw new KernelBuildException(failingFiles(sources, log), device, options, log);
        }
        store(p, binary);
        return new Built(p, false, binary);
    }

    /** Writes the program's device binary; a cache that cannot be written only costs build time. */
    private static void store(cl_program p, Path binary) {
        long[] size = new long[1];
        clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null);
        if (size[0] == 0) {
            return;
        }
        byte[] bin = new byte[Math.toIntExact(size[0])];
        clGetProgramInfo(p, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(new Pointer[] {Pointer.to(bin)}), null);
        try {
            Files.createDirectories(binary.getParent());
            Path tmp = Files.createTempFile(binary.getParent(), "build", ".tmp");
            Files.write(tmp, bin);
            Files.move(tmp, binary, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            System.err.println("euterpe: cannot cache the OpenCL binary at " + binary + ": " + e.getMessage());
        }
    }

    private static String buildLog(cl_program p, cl_device_id d) {
        long[] size = new long[1];
        clGetProgramBuildInfo(p, d, CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetProgramBuildInfo(p, d, CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8).strip();
    }

    /** The files the log mentions (thanks to the #line directives), or all of them if none. */
    private static List<String> failingFiles(List<Source> sources, String log) {
        List<String> named = new ArrayList<>();
        for (Source s : sources) {
            if (log.contains(s.file())) {
                named.add(s.file());
            }
        }
        return named.isEmpty() ? sources.stream().map(Source::file).toList() : named;
    }

    private static String hash(String... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String p : parts) {
                md.update(p.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
