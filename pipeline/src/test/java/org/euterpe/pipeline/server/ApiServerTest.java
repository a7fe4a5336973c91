package org.euterpe.pipeline.server;

import static org.euterpe.pipeline.server.Http.field;
import static org.euterpe.pipeline.server.Http.json;
import static org.euterpe.pipeline.server.Http.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every route and error of the HTTP API with a real client on loopback: the generation routes on the
 * bundled tiny model (2 workers), queue, cancellation, event streams, retention and shutdown on a
 * {@link FakeEngine} whose steps the test releases.
 */
class ApiServerTest {
    static Euterpe.Options cpu() {
        return Euterpe.Options.defaults().withDevice(System.getProperty("euterpe.test.device", "cpu"));
    }

    static final Limits LIMITS = Limits.defaults().withRequestLimits(200, 2, 50, 2).withQueue(8)
            .withMaxBodyBytes(4096);

    static ApiServer real;
    static JobManager realJobs;
    static Http http;

    @BeforeAll
    static void startReal() throws Exception {
        realJobs = new JobManager(w -> PipelineEngine.load(null, "tiny", cpu()), 2, LIMITS, new Metrics(), m -> { });
        real = new ApiServer(realJobs, null, m -> { });
        real.start("127.0.0.1", 0);
        realJobs.start();
        assertNull(realJobs.awaitLoaded(Duration.ofMinutes(2)));
        http = new Http(real.port(), null);
    }

    @AfterAll
    static void stopReal() throws Exception {
        real.stop(Duration.ofSeconds(5));
    }

    // ---- a fake-engine server per test -------------------------------------------------------------

    ApiServer fake;
    JobManager fakeJobs;
    final Semaphore gate = new Semaphore(0);
    final List<FakeEngine> engines = new ArrayList<>();

    Http startFake(int workers, Limits limits, String key) throws Exception {
        fakeJobs = new JobManager(w -> {
            FakeEngine e = new FakeEngine(gate);
            synchronized (engines) {
                engines.add(e);
            }
            return e;
        }, workers, limits, new Metrics(), m -> { });
        fake = new ApiServer(fakeJobs, key, m -> { });
        fake.start("127.0.0.1", 0);
        fakeJobs.start();
        assertNull(fakeJobs.awaitLoaded(Duration.ofSeconds(30)));
        return new Http(fake.port(), key);
    }

    @AfterEach
    void stopFake() throws Exception {
        if (fake != null) {
            gate.release(1 << 20);
            fake.stop(Duration.ofSeconds(1));
        }
    }

    static String submit(Http h, String json) throws Exception {
        HttpResponse<byte[]> r = h.post("/v1/audio/generations", json);
        assertEquals(202, r.statusCode(), () -> text(r));
        String id = (String) json(r).get("id");
        assertEquals("/v1/jobs/" + id, r.headers().firstValue("Location").orElseThrow());
        return id;
    }

    static Map<String, Object> awaitState(Http h, String id, String state) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            Map<String, Object> j = json(h.get("/v1/jobs/" + id));
            if (j.get("state").equals(state) || System.nanoTime() > deadline) {
                assertEquals(state, j.get("state"), j.toString());
                return j;
            }
            Thread.sleep(5);
        }
    }

    // ---- health, models, generation on the real model ---------------------------------------------

    @Test
    void healthReadinessModelsAndMetrics() throws Exception {
        assertEquals("{\"status\":\"ok\"}", text(http.get("/healthz")));
        HttpResponse<byte[]> ready = http.get("/readyz");
        assertEquals(200, ready.statusCode());
        assertEquals(true, json(ready).get("ready"));
        @SuppressWarnings("unchecked")
        Map<String, Object> model = ((List<Map<String, Object>>) json(http.get("/v1/models")).get("data")).get(0);
        assertEquals("audioldm", model.get("family"));
        assertEquals(16000L, model.get("sample_rate"));
        assertEquals(50L, ((Map<?, ?>) model.get("limits")).get("max_steps"));
        assertEquals(2L, ((Map<?, ?>) model.get("limits")).get("workers"));
        HttpResponse<byte[]> spec = http.get("/openapi.yaml");
        assertTrue(text(spec).startsWith("openapi: 3.1.0") && text(spec).contains("/v1/jobs/{id}/events:"));
        HttpResponse<byte[]> m = http.get("/metrics");
        assertTrue(m.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
        for (String line : List.of("euterpe_jobs{state=\"queued\"}", "euterpe_queue_depth ",
                "euterpe_step_seconds_bucket{le=\"+Inf\"}", "euterpe_step_seconds_count ",
                "euterpe_response_bytes_total ", "euterpe_workers 2")) {
            assertTrue(text(m).contains(line), line);
        }
    }

    @Test
    void waitReturnsTheAudioTheLibraryGenerates() throws Exception {
        HttpResponse<byte[]> r = http.post("/v1/audio/generations?wait=true",
                "{\"prompt\":\"rain on a tin roof\",\"seconds\":0.064,\"steps\":2,\"seed\":11,\"format\":\"float\"}");
        assertEquals(200, r.statusCode(), () -> text(r));
        assertEquals("audio/wav", r.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("11", r.headers().firstValue("X-Seed").orElseThrow());
        float[] got = floatData(r.body());
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(null, cpu())) {
            GenerationResult expected = pipe.generate(org.euterpe.pipeline.GenerationRequest.builder("rain on a tin roof")
                    .seconds(0.064).steps(2).seed(11).build(), ProgressListener.NONE);
            assertArrayEquals(expected.waveforms()[0], got, "bit-identical float samples");
        }
    }

    @Test
    void jobLifecycleWithSeveralWaveforms() throws Exception {
        String id = submit(http, "{\"prompt\":\"two takes\",\"seconds\":0.064,\"steps\":2,\"seed\":4,\"count\":2}");
        Map<String, Object> done = awaitState(http, id, "succeeded");
        assertEquals(2L, done.get("step"));
        assertEquals(2L, done.get("total"));
        assertEquals(List.of("/v1/jobs/" + id + "/audio?index=0", "/v1/jobs/" + id + "/audio?index=1"), done.get("audio"));
        HttpResponse<byte[]> a0 = http.get("/v1/jobs/" + id + "/audio");
        HttpResponse<byte[]> a1 = http.get("/v1/jobs/" + id + "/audio?index=1");
        assertEquals(200, a0.statusCode());
        assertEquals("2", a0.headers().firstValue("X-Audio-Count").orElseThrow());
        assertEquals("RIFF", new String(a1.body(), 0, 4, StandardCharsets.US_ASCII));
        assertFalse(java.util.Arrays.equals(a0.body(), a1.body()), "two different waveforms");
        HttpResponse<byte[]> bad = http.get("/v1/jobs/" + id + "/audio?index=2");
        assertEquals(400, bad.statusCode());
        assertEquals("index", field(bad));
        assertEquals("index", field(http.get("/v1/jobs/" + id + "/audio?index=abc")));
        // DELETE of a finished job drops it and its audio.
        assertEquals(200, http.delete("/v1/jobs/" + id).statusCode());
        assertEquals(404, http.get("/v1/jobs/" + id).statusCode());
    }

    @Test
    void variationsTakeAnUploadedClipAndMatchTheLibrary() throws Exception {
        HttpResponse<byte[]> src = http.post("/v1/audio/generations?wait=true",
                "{\"prompt\":\"source\",\"seconds\":0.5,\"steps\":2,\"seed\":1,\"format\":\"float\"}");
        assertEquals(200, src.statusCode(), () -> text(src));
        byte[] wav = src.body();
        HttpResponse<byte[]> r = variation(http, wav,
                "{\"prompt\":\"rain\",\"strength\":0.5,\"steps\":2,\"seed\":3,\"format\":\"float\"}", "?wait=true");
        assertEquals(200, r.statusCode(), () -> text(r));
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(null, cpu())) {
            org.euterpe.pipeline.audio.WavReader.Audio clip = org.euterpe.pipeline.audio.WavReader.parse(wav);
            GenerationResult expected = pipe.generate(org.euterpe.pipeline.GenerationRequest.builder("rain")
                    .sourceAudio(clip).strength(0.5).steps(2).seed(3).build(), ProgressListener.NONE);
            assertArrayEquals(expected.waveforms()[0], floatData(r.body()), "bit-identical float samples");
        }
        String inpaint = (String) json(variation(http, wav,
                "{\"prompt\":\"rain\",\"mask_start\":0.1,\"mask_end\":0.3,\"steps\":2}", "")).get("id");
        String extend = (String) json(variation(http, wav,
                "{\"prompt\":\"rain\",\"extend_seconds\":0.25,\"steps\":2}", "")).get("id");
        Map<String, Object> job = awaitState(http, extend, "succeeded");
        assertEquals("continue", ((Map<?, ?>) ((Map<?, ?>) job.get("request")).get("source")).get("mode"));
        awaitState(http, inpaint, "succeeded");

        // Errors name the part or field.
        assertEquals("audio", field(variation(http, "not a wav".getBytes(), "{\"prompt\":\"a\",\"strength\":0.5}", "")));
        assertEquals("strength", field(variation(http, wav, "{\"prompt\":\"a\"}", "")));
        assertEquals("strength", field(variation(http, wav, "{\"prompt\":\"a\",\"strength\":1.5}", "")));
        assertEquals("mask_end", field(variation(http, wav, "{\"prompt\":\"a\",\"mask_start\":0.3,\"mask_end\":0.1}", "")));
        assertEquals("seconds", field(variation(http, wav, "{\"prompt\":\"a\",\"extend_seconds\":1,\"seconds\":2}", "")));
        assertEquals("prompt", field(variation(http, wav, "{\"strength\":0.5}", "")));
        HttpResponse<byte[]> noRequest = http.send("POST", "/v1/audio/variations", multipart(List.<String[]>of(
                new String[] {"audio", "in.wav"}), List.of(wav)), "Content-Type", "multipart/form-data; boundary=XyZ");
        assertEquals("request", field(noRequest));
        assertEquals(415, http.send("POST", "/v1/audio/variations", wav, "Content-Type", "audio/wav").statusCode());
        HttpResponse<byte[]> broken = http.send("POST", "/v1/audio/variations", "--XyZ\r\nno headers".getBytes(),
                "Content-Type", "multipart/form-data; boundary=XyZ");
        assertEquals(400, broken.statusCode());
        assertTrue(text(broken).contains("multipart"));
    }

    static HttpResponse<byte[]> variation(Http h, byte[] wav, String request, String query) throws Exception {
        return h.send("POST", "/v1/audio/variations" + query, multipart(List.of(new String[] {"audio", "in.wav"},
                new String[] {"request", null}), List.of(wav, request.getBytes(StandardCharsets.UTF_8))),
                "Content-Type", "multipart/form-data; boundary=XyZ");
    }

    /** A multipart/form-data body with boundary XyZ: parts named [name, filename or null]. */
    static byte[] multipart(List<String[]> names, List<byte[]> data) throws Exception {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < names.size(); i++) {
            String[] n = names.get(i);
            b.write(("--XyZ\r\nContent-Disposition: form-data; name=\"" + n[0] + "\"" + (n[1] != null
                    ? "; filename=\"" + n[1] + "\"\r\nContent-Type: audio/wav" : "") + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            b.write(data.get(i));
            b.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        b.write("--XyZ--\r\n".getBytes(StandardCharsets.UTF_8));
        return b.toByteArray();
    }

    @Test
    void anUnconditionalModelServesStereoAndRefusesPrompts() throws Exception {
        java.nio.file.Path dance = java.nio.file.Path.of("src/test/conformance/tiny-dance-diffusion");
        JobManager jobs = new JobManager(w -> PipelineEngine.load(dance, "tiny-dance", cpu()), 1, LIMITS, new Metrics(),
                m -> { });
        ApiServer server = new ApiServer(jobs, null, m -> { });
        server.start("127.0.0.1", 0);
        jobs.start();
        try {
            assertNull(jobs.awaitLoaded(Duration.ofMinutes(1)));
            Http h = new Http(server.port(), null);
            @SuppressWarnings("unchecked")
            Map<String, Object> model = ((List<Map<String, Object>>) json(h.get("/v1/models")).get("data")).get(0);
            assertEquals(false, model.get("takes_prompts"));
            assertEquals(2L, model.get("channels"));
            HttpResponse<byte[]> prompt = h.post("/v1/audio/generations", "{\"prompt\":\"drums\"}");
            assertEquals(400, prompt.statusCode());
            assertEquals("prompt", field(prompt));
            HttpResponse<byte[]> r = h.post("/v1/audio/generations?wait=true", "{\"steps\":2,\"seed\":1}");
            assertEquals(200, r.statusCode(), () -> text(r));
            ByteBuffer b = ByteBuffer.wrap(r.body()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(2, b.getShort(22), "a stereo WAV");
        } finally {
            server.stop(Duration.ofSeconds(5));
        }
    }

    @Test
    void validationErrorsNameTheField() throws Exception {
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("{\"seconds\":1}", "prompt");
        cases.put("{\"prompt\":5}", "prompt");
        cases.put("{\"prompt\":\"  \"}", "prompt");
        cases.put("{\"prompt\":\"" + "x".repeat(201) + "\"}", "prompt");
        cases.put("{\"prompt\":\"a\",\"negative_prompt\":[]}", "negative_prompt");
        cases.put("{\"prompt\":\"a\",\"steps\":0}", "steps");
        cases.put("{\"prompt\":\"a\",\"steps\":51}", "steps");
        cases.put("{\"prompt\":\"a\",\"steps\":2.5}", "steps");
        cases.put("{\"prompt\":\"a\",\"seconds\":-1}", "seconds");
        cases.put("{\"prompt\":\"a\",\"seconds\":3}", "seconds");
        cases.put("{\"prompt\":\"a\",\"guidance\":\"high\"}", "guidance");
        cases.put("{\"prompt\":\"a\",\"seed\":-1}", "seed");
        cases.put("{\"prompt\":\"a\",\"count\":3}", "count");
        cases.put("{\"prompt\":\"a\",\"sampler\":\"magic\"}", "sampler");
        cases.put("{\"prompt\":\"a\",\"format\":\"mp3\"}", "format");
        cases.put("{\"prompt\":\"a\",\"temperature\":1}", "temperature");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            HttpResponse<byte[]> r = http.post("/v1/audio/generations", c.getKey());
            assertEquals(400, r.statusCode(), c.getKey());
            assertEquals(c.getValue(), field(r), c.getKey() + " -> " + text(r));
            assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        }
    }

    @Test
    void malformedOversizedAndMisroutedRequests() throws Exception {
        for (String body : List.of("", "{", "[1,2]", "\"prompt\"", "{\"prompt\":\"a\",}", "{\"prompt\":\"a\"}x",
                "{\"prompt\":\"a\",\"prompt\":\"b\"}", "[".repeat(4000))) {
            HttpResponse<byte[]> r = http.post("/v1/audio/generations", body);
            assertEquals(400, r.statusCode(), body.length() > 40 ? body.substring(0, 40) + "..." : body);
            assertTrue(json(r).containsKey("error"));
        }
        HttpResponse<byte[]> notUtf8 = http.send("POST", "/v1/audio/generations",
                new byte[] {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xC3, '"', '}'});
        assertEquals(400, notUtf8.statusCode());
        assertTrue(text(notUtf8).contains("UTF-8"));
        HttpResponse<byte[]> big = http.post("/v1/audio/generations", "{\"prompt\":\"" + "a".repeat(5000) + "\"}");
        assertEquals(413, big.statusCode());
        // Without Content-Length (chunked): refused while reading.
        HttpRequest chunked = HttpRequest.newBuilder(URI.create(http.base + "/v1/audio/generations"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[100_000])))
                .build();
        assertEquals(413, http.client.send(chunked, HttpResponse.BodyHandlers.ofByteArray()).statusCode());
        assertEquals(415, http.send("POST", "/v1/audio/generations", "{}".getBytes(), "Content-Type", "text/plain")
                .statusCode());
        HttpResponse<byte[]> method = http.get("/v1/audio/generations");
        assertEquals(405, method.statusCode());
        assertEquals("POST", method.headers().firstValue("Allow").orElseThrow());
        assertEquals(405, http.send("PUT", "/v1/jobs/job_x", new byte[0]).statusCode());
        assertEquals(404, http.get("/v1/nothing").statusCode());
        assertEquals(404, http.get("/v1/jobs/job_unknown").statusCode());
        assertEquals(404, http.get("/v1/jobs/../../etc/passwd").statusCode());
        assertEquals(404, http.delete("/v1/jobs/job_unknown").statusCode());
    }

    // ---- queue, cancellation, events, retention, auth, shutdown on the fake engine -----------------

    @Test
    void fullQueueIsRefusedWith429AndReadinessSaysSo() throws Exception {
        Http h = startFake(1, LIMITS.withQueue(2), null);
        String running = submit(h, "{\"prompt\":\"a\",\"steps\":2}");
        awaitState(h, running, "running");
        String q1 = submit(h, "{\"prompt\":\"b\",\"steps\":2}");
        String q2 = submit(h, "{\"prompt\":\"c\",\"steps\":2}");
        HttpResponse<byte[]> full = h.post("/v1/audio/generations", "{\"prompt\":\"d\"}");
        assertEquals(429, full.statusCode());
        assertEquals("1", full.headers().firstValue("Retry-After").orElseThrow());
        HttpResponse<byte[]> ready = h.get("/readyz");
        assertEquals(503, ready.statusCode());
        assertEquals("the queue is full", json(ready).get("reason"));
        assertEquals(200, h.get("/healthz").statusCode(), "full is not unhealthy");
        assertTrue(text(h.get("/metrics")).contains("euterpe_jobs_rejected_total 1"));
        gate.release(6);
        for (String id : List.of(running, q1, q2)) {
            awaitState(h, id, "succeeded");
        }
        assertEquals(200, h.get("/readyz").statusCode());
    }

    @Test
    void cancellationOfQueuedAndRunningJobs() throws Exception {
        Http h = startFake(1, LIMITS, null);
        String running = submit(h, "{\"prompt\":\"a\",\"steps\":10}");
        String queued = submit(h, "{\"prompt\":\"b\",\"steps\":10}");
        awaitState(h, running, "running");
        gate.release(2);
        HttpResponse<byte[]> q = h.delete("/v1/jobs/" + queued);
        assertEquals(200, q.statusCode());
        assertEquals("cancelled", json(q).get("state"));
        HttpResponse<byte[]> r = h.delete("/v1/jobs/" + running);
        assertEquals(202, r.statusCode(), "a running job stops at its next step");
        gate.release(1);
        Map<String, Object> j = awaitState(h, running, "cancelled");
        assertTrue((Long) j.get("step") <= 3, j.toString());
        assertEquals(409, h.get("/v1/jobs/" + running + "/audio").statusCode());
        assertEquals(1, engines.getFirst().generations.get(), "the cancelled queued job never ran");
    }

    @Test
    void eventStreamReportsEveryStepThenTheOutcome() throws Exception {
        Http h = startFake(1, LIMITS, null);
        String id = submit(h, "{\"prompt\":\"a\",\"steps\":4}");
        HttpRequest req = HttpRequest.newBuilder(URI.create(h.base + "/v1/jobs/" + id + "/events")).build();
        CompletableFuture<List<String>> events = CompletableFuture.supplyAsync(() -> {
            try {
                HttpResponse<java.io.InputStream> r = h.client.send(req, HttpResponse.BodyHandlers.ofInputStream());
                assertEquals("text/event-stream; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
                List<String> out = new ArrayList<>();
                try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    String name = null;
                    for (String line; (line = in.readLine()) != null; ) {
                        if (line.startsWith("event: ")) {
                            name = line.substring(7);
                        } else if (line.startsWith("data: ")) {
                            Map<?, ?> d = (Map<?, ?>) org.euterpe.tensor.json.Json.parse(line.substring(6));
                            out.add(name.equals("progress") ? "progress " + d.get("step") + "/" + d.get("total") : name);
                        }
                    }
                }
                return out;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        for (int i = 0; i < 4; i++) {
            Thread.sleep(30);
            gate.release();
        }
        assertEquals(List.of("started", "progress 1/4", "progress 2/4", "progress 3/4", "progress 4/4", "done"),
                events.get());
        // A failed job's stream ends with "failed" and the error.
        String bad = submit(h, "{\"prompt\":\"fail\",\"steps\":1}");
        gate.release();
        Map<String, Object> j = awaitState(h, bad, "failed");
        assertTrue(j.get("error").toString().contains("NaN"));
        String stream = text(h.get("/v1/jobs/" + bad + "/events"));
        assertTrue(stream.contains("event: failed") && stream.contains("NaN"), stream);
        assertEquals(500, h.get("/v1/jobs/" + bad + "/audio").statusCode());
    }

    @Test
    void finishedJobsAreKeptBoundedByCount() throws Exception {
        Http h = startFake(1, LIMITS.withKeep(2, Duration.ofHours(1)), null);
        gate.release(1 << 20);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(submit(h, "{\"prompt\":\"k\",\"steps\":1,\"seed\":" + i + "}"));
            awaitState(h, ids.getLast(), "succeeded");
        }
        assertEquals(404, h.get("/v1/jobs/" + ids.get(0)).statusCode(), "the oldest was dropped");
        assertEquals(200, h.get("/v1/jobs/" + ids.get(2) + "/audio").statusCode());
    }

    @Test
    void finishedJobsAreDroppedAfterTheirTime() throws Exception {
        Http h = startFake(1, LIMITS.withKeep(100, Duration.ofMillis(200)), null);
        gate.release(1 << 20);
        String id = submit(h, "{\"prompt\":\"k\",\"steps\":1}");
        awaitState(h, id, "succeeded");
        Thread.sleep(400);
        assertEquals(404, h.get("/v1/jobs/" + id).statusCode());
    }

    @Test
    void notReadyWhileLoadingAndAfterALoadFailure() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        JobManager jobs = new JobManager(w -> {
            release.await();
            if (w == 1) {
                throw new java.io.IOException("model not found: /nowhere");
            }
            return new FakeEngine(gate);
        }, 2, LIMITS, new Metrics(), m -> { });
        ApiServer server = new ApiServer(jobs, null, m -> { });
        server.start("127.0.0.1", 0);
        jobs.start();
        try {
            Http h = new Http(server.port(), null);
            assertEquals(200, h.get("/healthz").statusCode());
            HttpResponse<byte[]> loading = h.get("/readyz");
            assertEquals(503, loading.statusCode());
            assertEquals("loading the model", json(loading).get("reason"));
            assertEquals(503, h.get("/v1/models").statusCode());
            release.countDown();
            String error = jobs.awaitLoaded(Duration.ofSeconds(30));
            assertTrue(error != null && error.contains("/nowhere"), error);
            HttpResponse<byte[]> failed = h.get("/readyz");
            assertEquals(503, failed.statusCode());
            assertTrue(json(failed).get("reason").toString().contains("/nowhere"));
            assertEquals(503, h.post("/v1/audio/generations", "{\"prompt\":\"a\"}").statusCode());
        } finally {
            server.stop(Duration.ofSeconds(1));
        }
    }

    @Test
    void apiKeyGuardsEverythingButHealth() throws Exception {
        startFake(1, LIMITS, "s3cret");
        Http anonymous = new Http(fake.port(), null);
        assertEquals(200, anonymous.get("/healthz").statusCode());
        assertEquals(200, anonymous.get("/readyz").statusCode());
        for (String path : List.of("/v1/models", "/metrics", "/v1/jobs/job_x")) {
            HttpResponse<byte[]> r = anonymous.get(path);
            assertEquals(401, r.statusCode(), path);
            assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElseThrow());
        }
        assertEquals(401, new Http(fake.port(), "wrong").get("/v1/models").statusCode());
        assertEquals(200, new Http(fake.port(), "s3cret").get("/v1/models").statusCode());
    }

    @Test
    void shutdownStopsTakingJobsFinishesWithinGraceThenCancels() throws Exception {
        Http h = startFake(1, LIMITS, null);
        String running = submit(h, "{\"prompt\":\"a\",\"steps\":3}");
        String queued = submit(h, "{\"prompt\":\"b\",\"steps\":3}");
        awaitState(h, running, "running");
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> {
            try {
                fake.stop(Duration.ofMillis(500));
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (h.get("/readyz").statusCode() != 503 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals("shutting down", json(h.get("/readyz")).get("reason"));
        HttpResponse<byte[]> refused = h.post("/v1/audio/generations", "{\"prompt\":\"late\"}");
        assertEquals(503, refused.statusCode());
        gate.release(1); // the running job advances one step within the grace period,
        Thread.sleep(800);
        gate.release(1); // and is cancelled at the next step after it
        stopping.get();
        Job r = fakeJobs.get(running).orElseThrow();
        Job q = fakeJobs.get(queued).orElseThrow();
        assertEquals(Job.State.CANCELLED, r.state());
        assertEquals(Job.State.CANCELLED, q.state());
        assertTrue(engines.getFirst().closed, "the worker closed its pipeline");
        fake = null;
    }

    /** The samples of a 32-bit float WAV. */
    static float[] floatData(byte[] wav) {
        ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
        b.position(12);
        while (b.remaining() >= 8) {
            String id = new String(wav, b.position(), 4, StandardCharsets.US_ASCII);
            b.position(b.position() + 4);
            int size = b.getInt();
            if (id.equals("data")) {
                float[] out = new float[size / 4];
                b.asFloatBuffer().get(out);
                return out;
            }
            b.position(b.position() + size + (size & 1));
        }
        throw new AssertionError("no data chunk");
    }
}
