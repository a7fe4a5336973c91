package org.euterpe.kernels.opencl;

import java.util.List;

/** The OpenCL compiler rejected a kernel file on a device; the message carries its log. */
public final class KernelBuildException extends RuntimeException {
    private final List<String> files;
    private final String log;

    KernelBuildException(List<String> files, ClDevice device, String options, String log) {
        super("OpenCL kernel build failed in " + String.join(", ", files) + " on " + device.deviceName() + " ("
                + device.name() + ", " + device.platformName() + ", options \"" + options + "\"):\n" + log);
        this.files = List.copyOf(files);
        this.log = log;
    }

    /** The kernel files the compiler complained about. */
    public List<String> files() {
        return files;
    }

    /** The compiler's build log. */
    public String log() {
        return log;
    }
}
