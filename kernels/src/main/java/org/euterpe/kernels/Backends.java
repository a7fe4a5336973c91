package org.euterpe.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.euterpe.kernels.cpu.ScalarBackend;
import org.euterpe.kernels.cpu.VectorBackend;
import org.euterpe.tensor.Backend;

/**
 * Opens backends by device name and falls back to the CPU when a device cannot start.
 *
 * <p>Device names: {@code cpu} (Vector API), {@code scalar} (the plain reference), {@code opencl}
 * or {@code opencl:N}, {@code cuda} or {@code cuda:N}, and {@code auto} (CUDA, then an OpenCL
 * GPU, then the CPU). GPU backends are loaded reflectively and lazily, so the engine never
 * touches JOCL or JCuda classes when their native libraries are absent.
 */
public final class Backends {
    private Backends() {
    }

    /** The outcome of trying to open a device: a backend, or the reason there is none. */
    public record Probe(String device, Backend backend, String reason) {
        public boolean available() {
            return backend != null;
        }
    }

    /** Created on first use, so a JVM without the Vector API module can still use {@link #scalar()}. */
    private static final class Cpu {
        static final VectorBackend INSTANCE = new VectorBackend();
    }

    private static final ScalarBackend SCALAR = new ScalarBackend();

    /** The module the {@code cpu} backend is written on; the JVM must be started with it. */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";

    /** Whether this JVM was started with {@code --add-modules jdk.incubator.vector}. */
    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /**
     * The shared Vector-API CPU backend.
     *
     * @throws IllegalStateException when the JVM lacks the Vector API module (the message names the flag)
     */
    public static Backend cpu() {
        if (!vectorApiAvailable()) {
            throw new IllegalStateException("the cpu backend needs the Vector API: start the JVM with --add-modules "
                    + VECTOR_MODULE + " (or use the much slower scalar device)");
        }
        return Cpu.INSTANCE;
    }

    /** The shared scalar reference backend. */
    public static Backend scalar() {
        return SCALAR;
    }

    /** A device name this class understands: {@code opencl:gpu} is the first OpenCL GPU (what auto tries). */
    private static final java.util.regex.Pattern DEVICE =
            java.util.regex.Pattern.compile("auto|cpu|scalar|(opencl|cuda)(:(0|[1-9][0-9]{0,3}))?|opencl:gpu");

    /**
     * Checks the spelling of a device name.
     *
     * @throws IllegalArgumentException naming the valid forms, for e.g. {@code cuda:-1} or {@code opencl:abc}
     */
    public static String checkName(String device) {
        String d = device == null ? "" : device.toLowerCase(java.util.Locale.ROOT);
        if (!DEVICE.matcher(d).matches()) {
            throw new IllegalArgumentException("unknown device \"" + device
                    + "\" (expected auto, cpu, scalar, opencl, opencl:N, cuda or cuda:N, N a device number from 0)");
        }
        return d;
    }

    /** Tries to open {@code device}; never throws for a device that is merely absent. */
    public static Probe probe(String device) {
        String d = checkName(device);
        if (d.equals("auto")) {
            throw new IllegalArgumentException("probe a concrete device, not auto");
        }
        if (d.equals("cpu")) {
            if (!vectorApiAvailable()) {
                return new Probe(d, null, "the JVM was started without --add-modules " + VECTOR_MODULE);
            }
            return new Probe(d, Cpu.INSTANCE, null);
        }
        if (d.equals("scalar")) {
            return new Probe(d, SCALAR, null);
        }
        if (d.equals("opencl") || d.startsWith("opencl:")) {
            return openReflective(d, "org.euterpe.kernels.opencl.OpenClBackend");
        }
        if (d.equals("cuda") || d.startsWith("cuda:")) {
            return openReflective(d, "org.euterpe.kernels.cuda.CudaBackend");
        }
        throw new AssertionError(d); // checkName admits nothing else
    }

    /** An explicitly requested device that cannot start, when falling back was not allowed. */
    public static final class DeviceUnavailableException extends IllegalStateException {
        public DeviceUnavailableException(String message) {
            super(message);
        }
    }

    /**
     * Opens {@code device}, or for {@code auto} the best available one (CUDA, an OpenCL GPU, the CPU).
     * An explicit device that cannot start falls back to the CPU, and {@code log} is told why.
     */
    public static Backend open(String device, Consumer<String> log) {
        return open(device, log, true);
    }

    /**
     * As {@link #open(String, Consumer)}; with {@code fallback} false an explicit device that cannot
     * start is an error, so a script can insist on a GPU ({@code auto} always may use the CPU).
     *
     * <p>{@code auto} probes OpenCL only when the JVM runs with signal chaining ({@code libjsig},
     * see {@link #signalChaining()}): loading an OpenCL driver loads its compiler (POCL's LLVM), which
     * replaces the JVM's SIGSEGV/SIGBUS/SIGFPE/SIGILL handlers, and the JVM then dies on its next
     * implicit null check or safepoint poll. Without chaining, {@code auto} says so and uses the CPU;
     * an explicit {@code opencl} device is still opened, with a warning.
     *
     * @throws IllegalArgumentException for a malformed device name
     * @throws DeviceUnavailableException for an explicit device that cannot start, without fallback
     */
    public static Backend open(String device, Consumer<String> log, boolean fallback) {
        String d = checkName(device);
        if (d.equals("auto")) {
            for (String candidate : List.of("cuda", "opencl:gpu")) {
                if (candidate.startsWith("opencl") && !signalChaining()) {
                    log.accept("opencl not probed: this JVM runs without signal chaining, and OpenCL drivers replace"
                            + " the JVM's signal handlers; start it with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so (the"
                            + " ./euterpe launcher does) or ask for --device opencl");
                    continue;
                }
                Probe p = probe(candidate);
                if (p.available()) {
                    return p.backend();
                }
                log.accept(candidate + " not used: " + p.reason());
            }
            return cpu();
        }
        if (d.startsWith("opencl") && !signalChaining()) {
            log.accept("warning: OpenCL is loaded without signal chaining (libjsig); its driver may replace the JVM's"
                    + " signal handlers and crash it: start the JVM with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so");
        }
        Probe p = probe(d);
        if (p.available()) {
            return p.backend();
        }
        if (!fallback) {
            throw new DeviceUnavailableException(device + " unavailable: " + p.reason());
        }
        log.accept(device + " unavailable (" + p.reason() + "); falling back to the CPU");
        return cpu();
    }

    /**
     * Whether the JDK's signal-chaining library {@code libjsig} is loaded in this process (Linux:
     * read from {@code /proc/self/maps}), so native libraries that install signal handlers chain to
     * the JVM's instead of replacing them.
     */
    public static boolean signalChaining() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return false;
        }
        try (var lines = Files.lines(maps)) {
            return lines.anyMatch(l -> l.endsWith("/libjsig.so"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /** Every backend that tests should run on, with the reason for each one that is absent. */
    public static List<Probe> all() {
        List<Probe> out = new ArrayList<>();
        for (String d : List.of("cpu", "opencl", "cuda")) {
            out.add(probe(d));
        }
        return out;
    }

    /**
     * One line per OpenCL device (name, memory, extensions) for {@code euterpe devices}, or a line
     * saying why there are none; loaded reflectively like the backend itself.
     */
    @SuppressWarnings("unchecked")
    public static List<String> openClDevices() {
        try {
            Class<?> cls = Class.forName("org.euterpe.kernels.opencl.OpenClBackend");
            return (List<String>) cls.getMethod("describeDevices").invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return List.of("OpenCL unavailable: " + reason(e));
        }
    }

    private static Probe openReflective(String device, String className) {
        Class<?> cls;
        try {
            cls = Class.forName(className);
        } catch (ClassNotFoundException e) {
            return new Probe(device, null, "the " + device.replaceAll(":.*", "") + " backend is not part of this build");
        }
        try {
            Object b = cls.getMethod("open", String.class).invoke(null, device);
            return new Probe(device, (Backend) b, null);
        } catch (java.lang.reflect.InvocationTargetException e) {
            return new Probe(device, null, reason(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError e) {
            return new Probe(device, null, reason(e));
        }
    }

    /** A failure as a user reads it: its message, or its kind when it has none. */
    private static String reason(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}
