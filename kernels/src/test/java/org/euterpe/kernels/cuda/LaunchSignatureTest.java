package org.euterpe.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.euterpe.kernels.OpCases;
import org.euterpe.kernels.OpHarness;
import org.euterpe.kernels.OpHarness.OpCase;
import org.euterpe.kernels.OpHarness.Reject;
import org.euterpe.kernels.RandomTensors;
import org.euterpe.tensor.Scope;
import org.junit.jupiter.api.Test;

/**
 * Every launch the backend makes, for every case of the cross-backend suite, names a kernel the
 * committed PTX defines and passes parameters of exactly the kernel's declared types, in order:
 * the host/kernel contract, checked without a GPU by a device that records launches instead of
 * running them (memory is never touched, so only the calls are checked, not values). The same
 * device shows that invalid shapes are refused before any launch.
 */
class LaunchSignatureTest {
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)", Pattern.DOTALL);
    private static final Pattern PARAM = Pattern.compile("\\.param (?:\\.align \\d+ )?(\\.\\w+) \\w+(\\[(\\d+)])?");

    /** Kernel name to its PTX parameter types, from every committed module. */
    private static Map<String, List<String>> signatures() {
        Map<String, List<String>> out = new HashMap<>();
        List<String> modules = new ArrayList<>(CudaContext.MODULES);
        modules.add(CudaContext.MMA_MODULE);
        for (String m : modules) {
            String ptx = new String(CudaContext.resource(m + ".ptx"), StandardCharsets.US_ASCII);
            Matcher e = ENTRY.matcher(ptx);
            while (e.find()) {
                List<String> types = new ArrayList<>();
                Matcher p = PARAM.matcher(e.group(2));
                while (p.find()) {
                    types.add(p.group(2) == null ? p.group(1) : p.group(1) + "[" + p.group(3) + "]");
                }
                out.put(e.group(1), types);
            }
        }
        return out;
    }

    @Test
    void everyLaunchMatchesItsKernel() {
        Map<String, List<String>> signatures = signatures();
        assertTrue(signatures.size() >= 20, "kernels found in the PTX: " + signatures.keySet());
        Set<String> launched = new TreeSet<>();
        for (boolean tensorCores : new boolean[] {false, true}) {
            RecordingDevice device = new RecordingDevice(signatures, launched);
            CudaBackend backend = new CudaBackend(device, "cuda:recording", tensorCores);
            for (OpCase c : OpCases.all()) {
                device.current = c.toString();
                try (Scope _ = Scope.open()) {
                    assertNotNull(c.run().apply(new RandomTensors(backend, 1)));
                }
            }
        }
        // The mma variants of all three GEMM families, and every f32 kernel, were exercised.
        Set<String> unused = new TreeSet<>(signatures.keySet());
        unused.removeAll(launched);
        assertEquals(Set.of(), unused, "kernels no case launched");
    }

    /**
     * Shape checks run on the host, so the suite's invalid inputs are refused here as on a GPU;
     * except embedding ids, which are checked after downloading them, and this device keeps no data.
     */
    @Test
    void refusesInvalidInput() {
        CudaBackend backend = new CudaBackend(new RecordingDevice(signatures(), new TreeSet<>()), "cuda:recording",
                false);
        for (Reject r : OpCases.rejects()) {
            if (r.op().equals("embedding")) {
                continue;
            }
            try (Scope _ = Scope.open()) {
                OpHarness.assertRejects(backend, r);
            }
        }
    }

    /** Hands out fake addresses, ignores copies, and checks each launch against the PTX. */
    private static final class RecordingDevice implements CudaDevice {
        private final Map<String, List<String>> signatures;
        private final Set<String> launched;
        String current;

        RecordingDevice(Map<String, List<String>> signatures, Set<String> launched) {
            this.signatures = signatures;
            this.launched = launched;
        }

        @Override
        public CUdeviceptr allocate(long bytes) {
            return new CUdeviceptr();
        }

        @Override
        public void release(CUdeviceptr p, long bytes) {
        }

        @Override
        public void upload(CUdeviceptr dst, Pointer src, long bytes) {
        }

        @Override
        public void upload(CUdeviceptr dst, MemorySegment src) {
        }

        @Override
        public void download(Pointer dst, CUdeviceptr src, long bytes) {
        }

        @Override
        public void launch(String name, int[] grid, int block, KernelArgs args) {
            List<String> expected = signatures.get(name);
            assertNotNull(expected, current + ": launches " + name + ", which no PTX module defines");
            assertEquals(expected, args.ptxTypes(), current + ": parameters of " + name);
            assertTrue(grid[0] >= 1 && grid[1] >= 1 && grid[2] >= 1 && block % 32 == 0 && block <= 1024,
                    current + ": launch configuration of " + name);
            launched.add(name);
        }

        @Override
        public boolean hasTensorCores() {
            return true;
        }

        @Override
        public String describe() {
            return "recording device";
        }

        @Override
        public void close() {
        }
    }
}
