package org.euterpe.kernels.opencl;

import static org.jocl.CL.*;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * One OpenCL device and the properties the backend sizes its kernels by. Devices are numbered
 * over all platforms in the order the ICD loader reports them; that number is the N of
 * {@code opencl:N}.
 */
record ClDevice(int index, cl_platform_id platform, cl_device_id id, String platformName, String name,
        boolean gpu, boolean cpu, long globalMem, long maxAlloc, long localMem, long maxWorkGroup, int computeUnits,
        String version, String driver, String extensions) {

    /** Every device of every platform, in document order; empty when there is no platform. */
    static List<ClDevice> all() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        try {
            clGetPlatformIDs(0, null, count);
        } catch (org.jocl.CLException e) {
            return List.of(); // CL_PLATFORM_NOT_FOUND_KHR from the ICD loader: no platform installed
        }
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        if (count[0] > 0) {
            clGetPlatformIDs(count[0], platforms, null);
        }
        List<ClDevice> out = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            int[] n = new int[1];
            try {
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
            } catch (org.jocl.CLException e) {
                continue; // CL_DEVICE_NOT_FOUND: a platform without devices
            }
            cl_device_id[] ids = new cl_device_id[n[0]];
            clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n[0], ids, null);
            for (cl_device_id id : ids) {
                long type = longInfo(id, CL_DEVICE_TYPE);
                out.add(new ClDevice(out.size(), p, id, platformString(p, CL_PLATFORM_NAME),
                        stringInfo(id, CL_DEVICE_NAME), (type & CL_DEVICE_TYPE_GPU) != 0,
                        (type & CL_DEVICE_TYPE_CPU) != 0, longInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE),
                        longInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE), longInfo(id, CL_DEVICE_LOCAL_MEM_SIZE),
                        sizeInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE), (int) intInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS),
                        stringInfo(id, CL_DEVICE_VERSION), stringInfo(id, CL_DRIVER_VERSION),
                        stringInfo(id, CL_DEVICE_EXTENSIONS)));
            }
        }
        return out;
    }

    /** "opencl:N" name of this device. */
    String deviceName() {
        return "opencl:" + index;
    }

    boolean hasExtension(String ext) {
        return (" " + extensions + " ").contains(" " + ext + " ");
    }

    /** A one-line summary: kind, name, memory. */
    String summary() {
        return String.format(Locale.ROOT, "%s (%s, %s), %s global, %s max buffer, %s local, %d compute units, %s",
                name, gpu ? "GPU" : cpu ? "CPU" : "accelerator", platformName, bytes(globalMem), bytes(maxAlloc),
                bytes(localMem), computeUnits, version);
    }

    static String bytes(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        }
        return b >= 1024 ? (b / 1024) + " KiB" : b + " B";
    }

    private static String stringInfo(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static long longInfo(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    private static long intInfo(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    private static long sizeInfo(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    private static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    }
}
