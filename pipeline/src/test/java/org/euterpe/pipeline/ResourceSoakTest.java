package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

import org.euterpe.kernels.opencl.OpenClBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The long version of {@link PipelineReliabilityTest#repeatedGenerationsHoldNoGrowingResources}: 100
 * generations in one JVM, a probe after each, the first ten compared with the last ten. Minutes, so
 * it runs only when asked:
 * {@code mvn -pl pipeline -am test -Dtest=ResourceSoakTest -Deuterpe.soak=true [-Deuterpe.test.device=...]}.
 * For native memory as the JVM sees it, add {@code -DargLine="... -XX:NativeMemoryTracking=summary"}.
 */
@Tag("soak")
@EnabledIfSystemProperty(named = "euterpe.soak", matches = "true",
        disabledReason = "SKIPPED: the 100-generation soak is opt-in (-Deuterpe.soak=true); see RELIABILITY.md §2")
class ResourceSoakTest {
    private static final int RUNS = 100;

    @Test
    void hundredGenerationsHoldNoGrowingResources() throws Exception {
        List<ResourceProbe> probes = new ArrayList<>();
        List<Integer> deviceBuffers = new ArrayList<>();
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(null, PipelineReliabilityTest.options())) {
            System.out.println("soak on " + pipe.model().backend().description());
            // A device backend's own count of live buffers; -1 where the backend keeps none.
            IntSupplier buffers = pipe.model().backend() instanceof OpenClBackend cl ? cl::liveBuffers : () -> -1;
            GenerationRequest r = PipelineReliabilityTest.request("soak", 1);
            for (int i = 0; i < RUNS; i++) {
                pipe.generate(r, ProgressListener.NONE);
                ResourceProbe p = ResourceProbe.take();
                probes.add(p);
                deviceBuffers.add(buffers.getAsInt());
                System.out.println("soak " + (i + 1) + ": " + p + ", device buffers " + deviceBuffers.getLast()
                        + nativeCommitted());
            }
        }
        List<ResourceProbe> first = probes.subList(0, 10);
        List<ResourceProbe> last = probes.subList(RUNS - 10, RUNS);
        System.out.printf("soak first 10: heap %.2f MiB, RSS %.1f MiB; last 10: heap %.2f MiB, RSS %.1f MiB%n",
                mean(first, true) / 1048576, mean(first, false) / 1048576, mean(last, true) / 1048576,
                mean(last, false) / 1048576);
        ResourceProbe a = first.getLast();
        ResourceProbe b = last.getLast();
        assertEquals(a.fds(), b.fds(), "open files");
        assertEquals(a.threads(), b.threads(), "threads");
        assertEquals(a.weightMappings(), b.weightMappings(), "weight mappings");
        assertEquals(a.directBytes(), b.directBytes(), "direct memory");
        assertEquals(deviceBuffers.get(9), deviceBuffers.getLast(), "device buffers");
        assertTrue(mean(last, true) - mean(first, true) < 4 << 20, "heap grew by 4 MiB or more");
    }

    /** The JVM's committed native memory when run with -XX:NativeMemoryTracking=summary, else nothing. */
    private static String nativeCommitted() {
        try {
            javax.management.ObjectName dcmd = new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand");
            String nmt = (String) java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(dcmd,
                    "vmNativeMemory", new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            return nmt.lines().filter(l -> l.startsWith("Total:")).findFirst().map(l -> ", NMT " + l.strip()).orElse("");
        } catch (javax.management.JMException e) {
            return "";
        }
    }

    private static double mean(List<ResourceProbe> ps, boolean heap) {
        return ps.stream().mapToLong(p -> heap ? p.heapBytes() : p.rssBytes()).average().orElseThrow();
    }
}
