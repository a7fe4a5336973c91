package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.server.ApiServer;
import org.euterpe.pipeline.server.Engine;
import org.euterpe.pipeline.server.JobManager;
import org.euterpe.pipeline.server.JobSpec;
import org.euterpe.pipeline.server.Limits;
import org.euterpe.pipeline.server.Metrics;
import org.euterpe.pipeline.server.PipelineEngine;
import org.euterpe.tensor.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server against the CLI: 16 clients at once against 2 workers (and a queue small enough to
 * refuse some of them), every accepted job accounted for, and every waveform identical to what
 * {@code euterpe generate} writes for the same seed; and {@code euterpe serve} as a process that
 * stops cleanly on SIGTERM.
 */
class ServeCommandTest {
    @TempDir
    Path tmp;

    @Test
    void sixteenClientsTwoWorkersNothingLostOrDuplicatedAndTheCliAudio() throws Exception {
        // What the CLI writes for each of the four seeds.
        Map<Long, byte[]> cli = new ConcurrentHashMap<>();
        for (long seed = 0; seed < 4; seed++) {
            Path out = tmp.resolve("cli-" + seed + ".wav");
            BadInputTest.Outcome o = BadInputTest.run("generate", "sixteen clients", "--seconds", "0.064", "--steps",
                    "2", "--seed", Long.toString(seed), "--device", "cpu", "-o", out.toString());
            assertEquals(0, o.exit(), o.err()::toString);
            cli.put(seed, data(Files.readAllBytes(out)));
        }

        AtomicInteger generations = new AtomicInteger();
        Euterpe.Options cpu = Euterpe.Options.defaults().withDevice("cpu");
        JobManager jobs = new JobManager(w -> counting(PipelineEngine.load(null, "tiny", cpu), generations), 2,
                Limits.defaults().withQueue(4), new Metrics(), m -> { });
        ApiServer server = new ApiServer(jobs, null, m -> { });
        server.start("127.0.0.1", 0);
        jobs.start();
        assertNull(jobs.awaitLoaded(Duration.ofMinutes(2)));
        String base = "http://127.0.0.1:" + server.port();
        HttpClient http = HttpClient.newHttpClient();
        AtomicInteger refused = new AtomicInteger();
        Set<String> cancelRequested = ConcurrentHashMap.newKeySet();
        List<Future<String[]>> clients = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < 16; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    long seed = client % 4;
                    String body = "{\"prompt\":\"sixteen clients\",\"seconds\":0.064,\"steps\":2,\"seed\":" + seed + "}";
                    HttpResponse<String> r;
                    while (true) { // a client retries a full queue, as the README tells clients to
                        r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/audio/generations"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 429) {
                            break;
                        }
                        refused.incrementAndGet();
                        Thread.sleep(50);
                    }
                    assertEquals(202, r.statusCode(), r.body());
                    String id = (String) ((Map<?, ?>) Json.parse(r.body())).get("id");
                    if (client % 8 == 7) { // two clients change their minds
                        cancelRequested.add(id);
                        http.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + id)).DELETE().build(),
                                HttpResponse.BodyHandlers.ofString());
                    }
                    // Wait through the event stream, then read the outcome.
                    HttpResponse<java.io.InputStream> ev = http.send(HttpRequest.newBuilder(URI.create(base
                            + "/v1/jobs/" + id + "/events")).build(), HttpResponse.BodyHandlers.ofInputStream());
                    String last = null;
                    try (BufferedReader in = new BufferedReader(new InputStreamReader(ev.body(), StandardCharsets.UTF_8))) {
                        for (String line; (line = in.readLine()) != null; ) {
                            if (line.startsWith("event: ")) {
                                last = line.substring(7);
                            }
                        }
                    }
                    return new String[] {id, Long.toString(seed), last};
                }));
            }
        }
        Set<String> ids = new HashSet<>();
        int succeeded = 0;
        int cancelled = 0;
        for (Future<String[]> f : clients) {
            String[] r = f.get(5, TimeUnit.MINUTES);
            assertTrue(ids.add(r[0]), "duplicate job id " + r[0]);
            if (r[2].equals("cancelled")) {
                assertTrue(cancelRequested.contains(r[0]), "only jobs a client cancelled end cancelled");
                cancelled++;
                continue;
            }
            assertEquals("done", r[2], r[0]);
            succeeded++;
            HttpResponse<byte[]> audio = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + r[0]
                    + "/audio")).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, audio.statusCode());
            assertArrayEquals(cli.get(Long.parseLong(r[1])), data(audio.body()),
                    "job " + r[0] + " (seed " + r[1] + ") differs from the CLI's file");
        }
        assertEquals(16, ids.size());
        assertEquals(16, succeeded + cancelled);
        assertTrue(succeeded >= 14);
        // Each accepted job ran at most once; every succeeded one ran.
        assertTrue(generations.get() >= succeeded && generations.get() <= 16, "generations run: " + generations.get());
        String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("euterpe_jobs_submitted_total 16"), metrics);
        assertTrue(metrics.contains("euterpe_jobs_rejected_total " + refused.get()), metrics);
        assertTrue(metrics.contains("euterpe_jobs_finished_total{state=\"succeeded\"} " + succeeded), metrics);
        server.stop(Duration.ofSeconds(5));
    }

    @Test
    void serveStopsCleanlyOnSigterm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--port", "0", "--device", "cpu", "--grace", "2");
        pb.environment().put("EUTERPE_CACHE", tmp.resolve("cache").toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            int port = -1;
            while ((line = in.readLine()) != null) {
                lines.add(line);
                if (line.startsWith("listening on http://")) {
                    port = Integer.parseInt(line.replaceAll(".*:(\\d+) .*", "$1"));
                }
                if (line.startsWith("ready: ")) {
                    break;
                }
            }
            assertTrue(port > 0, lines::toString);
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v1/audio/generations?wait=true")).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"prompt\":\"x\",\"seconds\":0.064,\"steps\":1}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
            while ((line = in.readLine()) != null) {
                lines.add(line);
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "serve did not exit after SIGTERM");
        assertEquals(0, p.exitValue(), lines::toString);
        assertTrue(lines.contains("stopped"), lines::toString);
    }

    private static Engine counting(Engine e, AtomicInteger n) {
        return new Engine() {
            @Override
            public Map<String, Object> describe() {
                return e.describe();
            }

            @Override
            public Output generate(JobSpec spec, ProgressListener listener) {
                n.incrementAndGet();
                return e.generate(spec, listener);
            }

            @Override
            public void close() {
                e.close();
            }
        };
    }

    /** The bytes of a WAV file's data chunk. */
    static byte[] data(byte[] wav) {
        ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
        b.position(12);
        while (b.remaining() >= 8) {
            String id = new String(wav, b.position(), 4, StandardCharsets.US_ASCII);
            b.position(b.position() + 4);
            int size = b.getInt();
            if (id.equals("data")) {
                return java.util.Arrays.copyOfRange(wav, b.position(), b.position() + size);
            }
            b.position(b.position() + size + (size & 1));
        }
        throw new AssertionError("no data chunk");
    }
}
