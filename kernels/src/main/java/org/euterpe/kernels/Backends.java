package org.euterpe.kernels;

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

    private static final VectorBackend CPU = new VectorBackend();
    private static final ScalarBackend SCALAR = new ScalarBackend();

    /** The shared Vector-API CPU backend. */
    public static Backend cpu() {
        return CPU;
    }

    /** The shared scalar reference backend. */
    public static Backend scalar() {
        return SCALAR;
    }

    /** Tries to open {@code device}; never throws for a device that is merely absent. */
    public static Probe probe(String device) {
        String d = device.toLowerCase(java.util.Locale.ROOT);
        if (d.equals("cpu")) {
            return new Probe(d, CPU, null);
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
        throw new IllegalArgumentException("unknown device \"" + device
                + "\" (expected auto, cpu, scalar, opencl, opencl:N, cuda or cuda:N)");
    }

    /**
     * Opens {@code device}, or for {@code auto} the best available one. An explicit device that
     * cannot start falls back to the CPU, and {@code log} is told why.
     */
    public static Backend open(String device, Consumer<String> log) {
        if (device.equalsIgnoreCase("auto")) {
            for (String d : List.of("cuda", "opencl")) {
                Probe p = probe(d);
                if (p.available()) {
                    return p.backend();
                }
                log.accept(d + " not used: " + p.reason());
            }
            return CPU;
        }
        Probe p = probe(device);
        if (p.available()) {
            return p.backend();
        }
        log.accept(device + " unavailable (" + p.reason() + "); falling back to the CPU");
        return CPU;
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
            return List.of("OpenCL unavailable: " + e.getClass().getSimpleName() + ": " + e.getMessage());
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
            Throwable c = e.getCause();
            return new Probe(device, null, c.getClass().getSimpleName() + ": " + c.getMessage());
        } catch (ReflectiveOperationException | LinkageError e) {
            return new Probe(device, null, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
