package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.euterpe.pipeline.server.ApiServer;
import org.euterpe.pipeline.server.JobManager;
import org.euterpe.pipeline.server.Limits;
import org.euterpe.pipeline.server.Metrics;
import org.euterpe.pipeline.server.PipelineEngine;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The server's soak: 500 small generations over HTTP ({@code ?wait=true}, 2 workers, 4 clients at
 * once, half of them also reading the job and its event stream), a resource probe every 50; heap,
 * threads and file descriptors must be flat between generation 100 and 500. Minutes, so opt-in:
 * {@code mvn -pl pipeline -am test -Dtest=ServerSoakTest -Deuterpe.soak=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("soak")
@EnabledIfSystemProperty(named = "euterpe.soak", matches = "true")
class ServerSoakTest {
    private static final int RUNS = Integer.getInteger("euterpe.soak.runs", 500);

    @Test
    void fiveHundredGenerationsOverHttpHoldNoGrowingResources() throws Exception {
        JobManager jobs = new JobManager(w -> PipelineEngine.load(null, "tiny", PipelineReliabilityTest.options()), 2,
                Limits.defaults().withQueue(8).withKeep(64, Duration.ofMinutes(15)), new Metrics(), m -> { });
        ApiServer server = new ApiServer(jobs, null, m -> { });
        server.start("127.0.0.1", 0);
        jobs.start();
        assertNull(jobs.awaitLoaded(Duration.ofMinutes(2)));
        String base = "http://127.0.0.1:" + server.port();
        // Virtual threads for the client's own work, so its pool's idle platform workers do not show up as growth.
        HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        List<ResourceProbe> probes = new ArrayList<>();
        List<java.util.Set<String>> threadNames = new ArrayList<>();
        List<java.util.Map<String, Long>> histograms = new ArrayList<>();
        long t0 = System.nanoTime();
        try (ExecutorService clients = Executors.newFixedThreadPool(4)) {
            for (int batch = 0; batch < RUNS / 50; batch++) {
                List<Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    int n = batch * 50 + i;
                    fs.add(clients.submit(() -> {
                        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(base
                                + "/v1/audio/generations" + (n % 2 == 0 ? "?wait=true" : ""))).POST(
                                HttpRequest.BodyPublishers.ofString("{\"prompt\":\"soak " + n
                                        + "\",\"seconds\":0.064,\"steps\":2,\"seed\":" + n + "}")).build(),
                                HttpResponse.BodyHandlers.ofByteArray());
                        if (n % 2 == 0) {
                            assertEquals(200, r.statusCode());
                            return null;
                        }
                        assertEquals(202, r.statusCode(), new String(r.body()));
                        String id = new String(r.body()).replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
                        String events = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + id
                                + "/events")).build(), HttpResponse.BodyHandlers.ofString()).body();
                        assertTrue(events.contains("event: done"), events);
                        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + id
                                + "/audio")).build(), HttpResponse.BodyHandlers.ofByteArray()).statusCode());
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
                ResourceProbe p = ResourceProbe.take();
                probes.add(p);
                threadNames.add(threadNames());
                if (Boolean.getBoolean("euterpe.soak.histogram") && (batch == 1 || batch == RUNS / 50 - 1)) {
                    histograms.add(histogram());
                }
                System.out.printf("server soak %d: %s, held jobs %d, %.1f s%n", (batch + 1) * 50, p,
                        jobs.countByState().values().stream().mapToInt(Integer::intValue).sum(),
                        (System.nanoTime() - t0) / 1e9);
            }
        } finally {
            server.stop(Duration.ofSeconds(10));
        }
        ResourceProbe a = probes.get(1);
        ResourceProbe b = probes.getLast();
        System.out.printf("server soak after 100: heap %.2f MiB, threads %d, fds %d; after %d: heap %.2f MiB, "
                + "threads %d, fds %d%n", a.heapBytes() / 1048576.0, a.threads(), a.fds(), RUNS,
                b.heapBytes() / 1048576.0, b.threads(), b.fds());
        java.util.Set<String> added = new java.util.TreeSet<>(threadNames.getLast());
        added.removeAll(threadNames.get(1));
        java.util.Set<String> gone = new java.util.TreeSet<>(threadNames.get(1));
        gone.removeAll(threadNames.getLast());
        System.out.println("server soak threads new since 100: " + added + ", gone: " + gone);
        if (histograms.size() == 2) {
            histograms.get(1).entrySet().stream()
                    .map(e -> java.util.Map.entry(e.getKey(), e.getValue() - histograms.get(0).getOrDefault(e.getKey(), 0L)))
                    .filter(e -> e.getValue() != 0).sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).limit(15)
                    .forEach(e -> System.out.println("server soak heap growth " + e.getValue() + " B " + e.getKey()));
        }
        assertEquals(a.fds(), b.fds(), "open files");
        // Platform threads other than the pools' own workers (the virtual-thread scheduler's carriers and
        // the common pool grow to their parallelism on demand, then stay).
        assertEquals(java.util.Set.of(), added.stream().filter(n -> !n.startsWith("ForkJoinPool")).collect(
                java.util.stream.Collectors.toSet()), "threads");
        assertTrue(b.threads() - a.threads() <= Runtime.getRuntime().availableProcessors(), "threads");
        assertTrue(b.heapBytes() - a.heapBytes() < 8 << 20, "heap grew by 8 MiB or more");
    }

    /** Live platform threads by name, numbers kept (a new thread of a pool shows as a new name). */
    private static java.util.Set<String> threadNames() {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            names.add(t.getName() + "#" + t.threadId());
        }
        return names;
    }

    /** Bytes of live objects by class (a full GC first), from the DiagnosticCommand MBean. */
    private static java.util.Map<String, Long> histogram() throws Exception {
        javax.management.ObjectName dcmd = new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand");
        String text = (String) java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(dcmd,
                "gcClassHistogram", new Object[] {new String[0]}, new String[] {String[].class.getName()});
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        for (String line : text.lines().toList()) {
            String[] f = line.strip().split("\\s+");
            if (f.length >= 4 && f[0].endsWith(":")) {
                out.merge(f[3], Long.parseLong(f[2]), Long::sum);
            }
        }
        return out;
    }
}
