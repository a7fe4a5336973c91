package org.euterpe.kernels.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clReleaseContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenCL backend's own machinery: device listing and selection, the program binary cache,
 * build-failure and out-of-memory messages, buffer release. The ops themselves are compared
 * with the reference by BackendOpsTest. Skipped where no OpenCL device is present.
 */
class OpenClBackendTest {
    private static List<ClDevice> devices;

    @BeforeAll
    static void needsOpenCl() {
        Backends.Probe p = Backends.probe("opencl");
        Assumptions.assumeTrue(p.available(), () -> "no OpenCL device: " + p.reason());
        devices = ClDevice.all();
    }

    private static OpenClBackend backend() {
        return (OpenClBackend) Backends.probe("opencl").backend();
    }

    @Test
    void listsEveryDeviceWithItsNameAndExtensions() {
        List<String> lines = OpenClBackend.describeDevices();
        for (ClDevice d : devices) {
            String head = lines.stream().filter(l -> l.startsWith(d.deviceName() + " ")).findFirst().orElseThrow();
            assertTrue(head.contains(d.name()), head);
            assertTrue(head.contains(ClDevice.bytes(d.globalMem()) + " global"), head);
        }
        assertEquals(devices.size(), lines.stream().filter(l -> l.trim().startsWith("extensions:")).count());
        assertEquals(lines, Backends.openClDevices());
    }

    @Test
    void takesTensorsOfTheCpuBackends() {
        // CPU tensors live in float[]/long[] heap segments, which have no ByteBuffer view.
        float[] values = {1.5f, -2f, 3.25f, 0f, 7f, -0.5f};
        for (var cpu : List.of(Backends.scalar(), Backends.probe("cpu").backend())) {
            try (Tensor host = cpu.fromArray(values, Shape.of(2, 3)); Tensor dev = host.to(backend())) {
                assertEquals(backend(), dev.backend());
                assertArrayEquals(values, dev.toFloatArray(), cpu.name());
                try (Tensor ids = cpu.fromArray(new long[] {4, -9, 1L << 40}, Shape.of(3));
                        Tensor onDev = ids.to(backend())) {
                    assertArrayEquals(new long[] {4, -9, 1L << 40}, onDev.toLongArray(), cpu.name());
                }
            }
        }
    }

    @Test
    void selectsDevicesByNumber() {
        assertEquals("opencl:0", Backends.probe("opencl:0").backend().name());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> OpenClBackend.open("opencl:" + devices.size()));
        assertTrue(e.getMessage().contains("there are " + devices.size()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> OpenClBackend.open("opencl:x"));
        Backends.Probe absent = Backends.probe("opencl:" + devices.size());
        assertFalse(absent.available());
    }

    @Test
    void reusesTheCachedBinary(@TempDir Path cache) throws Exception {
        OpenClBackend first = OpenClBackend.openPrivate("opencl:0", cache);
        OpenClBackend second = null;
        try {
            assertFalse(first.programFromCache(), "an empty cache cannot supply the program");
            List<Path> bins;
            try (Stream<Path> s = Files.walk(cache)) {
                bins = s.filter(p -> p.toString().endsWith(".bin")).toList();
            }
            assertEquals(1, bins.size(), "one binary for one device and source set: " + bins);
            assertTrue(Files.size(bins.getFirst()) > 0);
            second = OpenClBackend.openPrivate("opencl:0", cache);
            assertTrue(second.programFromCache(), "the second open should load " + bins.getFirst());
            // The cached program must work, not merely load.
            try (Scope _ = Scope.open()) {
                Tensor x = second.fromArray(new float[] {1, 2, 3, 4}, Shape.of(2, 2));
                assertArrayEquals(new float[] {7, 10, 15, 22}, x.matmul(x).toFloatArray());
            }
        } finally {
            first.close();
            if (second != null) {
                second.close();
            }
        }
    }

    @Test
    void buildFailureNamesFileDeviceAndLog(@TempDir Path cache) {
        ClDevice d = devices.getFirst();
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, d.platform());
        cl_context ctx = clCreateContext(props, 1, new cl_device_id[] {d.id()}, null, null, null);
        try {
            List<ProgramBuilder.Source> sources = List.of(ProgramBuilder.bundledSources().getFirst(),
                    new ProgramBuilder.Source("broken.cl", "__kernel void k(__global float* x) {\n"
                            + "    x[0] = undeclared_name;\n}\n"));
            KernelBuildException e = assertThrows(KernelBuildException.class,
                    () -> ProgramBuilder.build(ctx, d, sources, "", cache));
            assertEquals(List.of("broken.cl"), e.files());
            assertTrue(e.getMessage().contains(d.name()), e.getMessage());
            assertTrue(e.getMessage().contains("undeclared_name"), "the message should carry the log: "
                    + e.getMessage());
        } finally {
            clReleaseContext(ctx);
        }
    }

    @Test
    void anAllocationBeyondTheDeviceLimitSaysSoAndDoesNotCrash() {
        OpenClBackend b = backend();
        long tooBig = b.runtime().device.maxAlloc() + 1;
        DeviceMemoryException e = assertThrows(DeviceMemoryException.class, () -> b.runtime().allocate(tooBig));
        assertEquals(tooBig, e.requestedBytes());
        assertTrue(e.getMessage().contains(String.valueOf(tooBig)) && e.getMessage().contains("opencl:"),
                e.getMessage());
        // The backend still works afterwards.
        try (Scope _ = Scope.open()) {
            assertEquals(6f, b.fromArray(new float[] {1, 2, 3}, Shape.of(3)).sum(0, false).item());
        }
    }

    @Test
    void scopeCloseReleasesEveryBuffer() {
        OpenClBackend b = backend();
        int before = b.liveBuffers();
        try (Scope scope = Scope.open()) {
            Tensor x = b.fromArray(new float[24], Shape.of(2, 3, 4));
            Tensor y = x.add(1f).softmax().permute(2, 0, 1).cast(DType.F16).cast(DType.F32);
            Tensor z = y.select(1).matmul(b.zeros(DType.F32, Shape.of(3, 5))); // a view operand, copied inside
            assertEquals(Shape.of(2, 5), z.shape());
            assertTrue(b.liveBuffers() > before);
            assertEquals(scope.size(), b.liveBuffers() - before, "every live buffer belongs to the scope");
        }
        assertEquals(before, b.liveBuffers());
    }

    @Test
    void opsReadViewsAtTheirOffset() {
        OpenClBackend b = backend();
        float[] v = new float[3 * 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        try (Scope _ = Scope.open()) {
            Tensor row = b.fromArray(v, Shape.of(3, 4)).select(2); // byte offset 32
            assertArrayEquals(new float[] {16, 18, 20, 22}, row.add(row).toFloatArray());
            assertArrayEquals(new float[] {8, 9, 10, 11}, row.toFloatArray());
        }
    }
}
