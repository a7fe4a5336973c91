package org.euterpe.pipeline.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import org.euterpe.pipeline.audio.AudioFileException;
import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.audio.WavWriter;
import org.euterpe.tensor.json.Json;

/**
 * The HTTP API on the JDK's own server, one virtual thread per exchange (so waiting requests and
 * event streams cost no platform threads); generation runs on the {@link JobManager}'s workers.
 *
 * <pre>
 *   POST   /v1/audio/generations[?wait=true]   202 {job} | 200 audio/wav | 400 {error.field} | 413 | 429 + Retry-After
 *   POST   /v1/audio/variations[?wait=true]    the same, from multipart: "audio" (WAV) and "request" (JSON + strength |
 *                                              mask_start, mask_end | extend_seconds)
 *   GET    /v1/jobs/{id}                       {id, state, step, total, eta_seconds, error, request, audio[]}
 *   GET    /v1/jobs/{id}/events                text/event-stream: progress per step, then done | failed | cancelled
 *   GET    /v1/jobs/{id}/audio[?index=k]       audio/wav (409 until succeeded, 410 once dropped)
 *   DELETE /v1/jobs/{id}                       cancels (running: at the next step); a finished job is dropped
 *   GET    /v1/models, /healthz, /readyz, /metrics, /openapi.yaml
 * </pre>
 *
 * With an API key every route but {@code /healthz} and {@code /readyz} needs {@code Authorization: Bearer KEY}.
 */
public final class ApiServer {
    private static final Pattern JOB = Pattern.compile("/v1/jobs/([A-Za-z0-9_]{1,64})(/events|/audio)?");
    /** How often an idle event stream sends a comment, so proxies keep it open and a gone client is noticed. */
    static final long KEEPALIVE_MILLIS = 15_000;

    private final JobManager jobs;
    private final Limits limits;
    private final Metrics metrics;
    private final byte[] apiKey;
    private final Consumer<String> log;
    private HttpServer http;
    private ExecutorService executor;

    public ApiServer(JobManager jobs, String apiKey, Consumer<String> log) {
        this.jobs = jobs;
        this.limits = jobs.limits();
        this.metrics = jobs.metrics();
        this.apiKey = apiKey == null ? null : apiKey.getBytes(StandardCharsets.UTF_8);
        this.log = log;
    }

    /** Binds and starts answering (port 0: any free port, see {@link #port()}). */
    public synchronized void start(String host, int port) throws IOException {
        // The JDK server's own guards against slow or huge requests, unless the user set them.
        System.setProperty("sun.net.httpserver.maxReqTime", System.getProperty("sun.net.httpserver.maxReqTime", "60"));
        System.setProperty("sun.net.httpserver.maxReqHeaders",
                System.getProperty("sun.net.httpserver.maxReqHeaders", "100"));
        http = HttpServer.create(new InetSocketAddress(host, port), 256);
        executor = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /**
     * Stops taking jobs ({@code /readyz} turns false, new jobs get 503), gives queued and running jobs
     * the grace period, cancels the rest, then closes the listener once open exchanges end.
     */
    public void stop(Duration grace) throws InterruptedException {
        jobs.shutdown(grace);
        if (http != null) {
            http.stop(1);
            executor.shutdown();
        }
    }

    private void handle(HttpExchange ex) {
        metrics.requests.incrementAndGet();
        try {
            route(ex);
        } catch (ApiError e) {
            sendError(ex, e);
        } catch (IOException e) {
            // the client went away
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.accept("internal error on " + ex.getRequestMethod() + " " + ex.getRequestURI() + ": " + e);
            sendError(ex, new ApiError(500, null, "internal error: " + e));
        } finally {
            ex.close();
        }
    }

    private void route(HttpExchange ex) throws IOException, InterruptedException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getRawPath();
        switch (path) {
            case "/healthz" -> {
                allow(method, "GET");
                sendJson(ex, 200, Map.of("status", "ok"));
                return;
            }
            case "/readyz" -> {
                allow(method, "GET");
                String why = jobs.notReadyReason();
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("ready", why == null);
                if (why != null) {
                    body.put("reason", why);
                }
                sendJson(ex, why == null ? 200 : 503, body);
                return;
            }
            case "/openapi.yaml" -> {
                allow(method, "GET");
                try (InputStream in = ApiServer.class.getResourceAsStream("openapi.yaml")) {
                    if (in == null) {
                        throw new ApiError(404, null, "this build lacks openapi.yaml");
                    }
                    send(ex, 200, "application/yaml; charset=utf-8", in.readAllBytes());
                }
                return;
            }
            default -> {
            }
        }
        authorize(ex);
        if (path.equals("/metrics")) {
            allow(method, "GET");
            byte[] text = metrics.write(jobs.countByState(), jobs.queueDepth(), limits.queue(), jobs.workers(),
                    jobs.busy(), jobs.ready()).getBytes(StandardCharsets.UTF_8);
            send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", text);
            return;
        }
        if (path.equals("/v1/models")) {
            allow(method, "GET");
            models(ex);
            return;
        }
        if (path.equals("/v1/audio/generations")) {
            allow(method, "POST");
            generate(ex);
            return;
        }
        if (path.equals("/v1/audio/variations")) {
            allow(method, "POST");
            variation(ex);
            return;
        }
        Matcher m = JOB.matcher(path);
        if (m.matches()) {
            String id = m.group(1);
            String sub = m.group(2);
            if (sub == null) {
                allow(method, "GET", "DELETE");
                if (method.equals("DELETE")) {
                    Job job = jobs.cancel(id).orElseThrow(() -> unknown(id));
                    sendJson(ex, job.state().terminal() ? 200 : 202, job.toJson());
                } else {
                    sendJson(ex, 200, job(id).toJson());
                }
            } else if (sub.equals("/events")) {
                allow(method, "GET");
                events(ex, job(id));
            } else {
                allow(method, "GET");
                audio(ex, job(id), index(query(ex).get("index")));
            }
            return;
        }
        throw new ApiError(404, null, "no such route: " + path + " (see the README's API section)");
    }

    private static void allow(String method, String... allowed) {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw new ApiError(405, null, method + " is not allowed here; use " + String.join(" or ", allowed))
                .header("Allow", String.join(", ", allowed));
    }

    private void authorize(HttpExchange ex) {
        if (apiKey == null) {
            return;
        }
        String h = ex.getRequestHeaders().getFirst("Authorization");
        byte[] given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7)
                ? h.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, apiKey)) {
            throw new ApiError(401, null, h == null ? "this server needs an API key: send Authorization: Bearer KEY"
                    : "the API key is wrong").header("WWW-Authenticate", "Bearer");
        }
    }

    private Job job(String id) {
        return jobs.get(id).orElseThrow(() -> unknown(id));
    }

    private ApiError unknown(String id) {
        return new ApiError(404, null, "no job " + id + " (finished jobs are kept for "
                + limits.keepFor().toSeconds() + " s and at most " + limits.keepJobs() + " of them)");
    }

    private void models(HttpExchange ex) throws IOException {
        Map<String, Object> d = jobs.description();
        if (d == null) {
            throw new ApiError(503, null, jobs.notReadyReason() != null ? jobs.notReadyReason() : "loading the model")
                    .header("Retry-After", "5");
        }
        Map<String, Object> model = new LinkedHashMap<>(d);
        Map<String, Object> lim = new LinkedHashMap<>();
        lim.put("max_seconds", limits.maxSeconds());
        lim.put("max_steps", limits.maxSteps());
        lim.put("max_count", limits.maxCount());
        lim.put("max_prompt_chars", limits.maxPromptChars());
        lim.put("max_body_bytes", limits.maxBodyBytes());
        lim.put("queue", limits.queue());
        lim.put("workers", jobs.workers());
        lim.put("keep_jobs", limits.keepJobs());
        lim.put("keep_seconds", limits.keepFor().toSeconds());
        model.put("limits", lim);
        sendJson(ex, 200, Map.of("data", List.of(model)));
    }

    private void generate(HttpExchange ex) throws IOException, InterruptedException {
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type != null && !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new ApiError(415, null, "send the request as Content-Type: application/json, not " + type);
        }
        submit(ex, RequestParser.parse(readBody(ex, limits.maxBodyBytes()), limits));
    }

    /** {@code POST /v1/audio/variations}: multipart, an {@code audio} file part and a {@code request} JSON part. */
    private void variation(HttpExchange ex) throws IOException, InterruptedException {
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        Multipart.boundary(type); // 415 before reading a body of the wrong kind
        Map<String, Multipart.Part> parts = Multipart.parse(type, readBody(ex, limits.maxUploadBytes()));
        Multipart.Part audio = parts.get("audio");
        Multipart.Part request = parts.get("request");
        if (audio == null) {
            throw ApiError.badField("audio", "the \"audio\" part (a WAV file) is missing");
        }
        if (request == null) {
            throw ApiError.badField("request", "the \"request\" part (JSON: prompt, strength or mask_start/mask_end "
                    + "or extend_seconds, ...) is missing");
        }
        for (String name : parts.keySet()) {
            if (!name.equals("audio") && !name.equals("request")) {
                throw ApiError.badField(name, "unknown part \"" + name + "\" (send \"audio\" and \"request\")");
            }
        }
        WavReader.Audio clip;
        try {
            clip = WavReader.parse(audio.data());
        } catch (AudioFileException e) {
            throw ApiError.badField("audio", "the \"audio\" part is not a readable WAV file: " + e.getMessage());
        }
        submit(ex, RequestParser.parseVariation(request.data(), clip, limits));
    }

    private void submit(HttpExchange ex, JobSpec spec) throws IOException, InterruptedException {
        Map<String, Object> model = jobs.description();
        if (model != null && Boolean.TRUE.equals(model.get("takes_prompts")) && spec.prompt() == null) {
            throw ApiError.badField("prompt", "\"prompt\" is required");
        }
        if (model != null && Boolean.FALSE.equals(model.get("takes_prompts")) && spec.prompt() != null) {
            throw ApiError.badField("prompt", "this model (" + model.get("pipeline") + ") is unconditional: it takes "
                    + "no prompt (use \"count\" for several outputs)");
        }
        Map<String, String> q = query(ex);
        boolean wait = "true".equals(q.get("wait")) || "1".equals(q.get("wait"));
        try {
            PipelineEngine.request(spec); // the pipeline's own checks, as 400s before the job is queued
        } catch (IllegalArgumentException e) {
            throw ApiError.badField(null, e.getMessage());
        }
        Job job = jobs.submit(spec);
        if (!wait) {
            ex.getResponseHeaders().set("Location", "/v1/jobs/" + job.id());
            sendJson(ex, 202, job.toJson());
            return;
        }
        Job.Snapshot s = job.snapshot();
        while (!s.state().terminal()) {
            s = job.awaitChange(s.version(), KEEPALIVE_MILLIS);
        }
        ex.getResponseHeaders().set("X-Job-Id", job.id());
        audio(ex, job, 0);
    }

    /** The body, refused with 413 beyond {@code max} (from Content-Length when given, else while reading). */
    private byte[] readBody(HttpExchange ex, int max) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long n;
            try {
                n = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                throw new ApiError(400, null, "Content-Length is not a number");
            }
            if (n > max) {
                throw tooLarge(n, max);
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                throw tooLarge(-1, max);
            }
            return b;
        }
    }

    private static ApiError tooLarge(long n, int max) {
        return new ApiError(413, null, "the request body " + (n >= 0 ? "has " + n + " bytes" : "is too large")
                + "; at most " + max + " bytes are accepted").header("Connection", "close");
    }

    private void audio(HttpExchange ex, Job job, int index) throws IOException {
        Job.Snapshot s = job.snapshot();
        switch (s.state()) {
            case FAILED -> throw new ApiError(500, null, "job " + job.id() + " failed: " + s.error());
            case CANCELLED -> throw new ApiError(409, null, "job " + job.id() + " was cancelled");
            case QUEUED, RUNNING -> throw new ApiError(409, null, "job " + job.id() + " is " + s.state().json()
                    + " (step " + s.step() + " of " + s.total() + "); its audio is not ready")
                    .header("Retry-After", "1");
            default -> {
            }
        }
        Engine.Output out = job.output();
        if (out == null) {
            throw new ApiError(410, null, "the audio of job " + job.id() + " was dropped");
        }
        if (index < 0 || index >= out.waveforms().length) {
            throw ApiError.badField("index", "index must be between 0 and " + (out.waveforms().length - 1)
                    + ", got " + index);
        }
        JobSpec spec = job.spec();
        Map<String, String> info = new LinkedHashMap<>();
        info.put(WavWriter.TITLE, spec.prompt());
        // As `euterpe generate` records a run: every resolved setting, then which waveform this is.
        StringBuilder comment = new StringBuilder();
        Map<String, String> settings = new LinkedHashMap<>(out.settings());
        settings.putIfAbsent("seed", Long.toString(out.seed()));
        settings.put("model", String.valueOf(jobs.description() != null ? jobs.description().get("id") : "?"));
        settings.put("software", "Euterpe");
        settings.put("index", Integer.toString(index));
        settings.forEach((k, v) -> comment.append(comment.isEmpty() ? "" : " ").append(k).append('=')
                .append(Json.write(v)));
        info.put(WavWriter.COMMENT, comment.toString());
        info.put(WavWriter.SOFTWARE, "Euterpe");
        java.io.ByteArrayOutputStream wav = new java.io.ByteArrayOutputStream(64 + 4 * out.waveforms()[index].length);
        WavWriter.body(out.waveforms()[index], out.channels(), out.sampleRate(),
                spec.format().equals("float") ? WavWriter.Format.FLOAT32 : WavWriter.Format.PCM16, info).write(wav);
        ex.getResponseHeaders().set("X-Audio-Count", Integer.toString(out.waveforms().length));
        ex.getResponseHeaders().set("X-Seed", Long.toString(out.seed()));
        send(ex, 200, "audio/wav", wav.toByteArray());
    }

    private static int index(String v) {
        if (v == null) {
            return 0;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw ApiError.badField("index", "index must be an integer, got \"" + v + "\"");
        }
    }

    /** Server-Sent Events: {@code progress} per step, then {@code done}, {@code failed} or {@code cancelled}. */
    private void events(HttpExchange ex, Job job) throws IOException, InterruptedException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.getResponseHeaders().set("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
        ex.sendResponseHeaders(200, 0);
        OutputStream os = ex.getResponseBody();
        long seen = -1;
        int sentSteps = 0;
        boolean sentStart = false;
        while (true) {
            Job.Snapshot s = job.awaitChange(seen, KEEPALIVE_MILLIS);
            if (s.version() == seen) {
                write(os, ": keep-alive\n\n");
                continue;
            }
            seen = s.version();
            if (!sentStart && s.state() != Job.State.QUEUED) {
                sentStart = true;
                write(os, event("started", Map.of("id", job.id(), "state", "running")));
            }
            for (int k = sentSteps + 1; k <= s.stepNanos().size(); k++) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("id", job.id());
                p.put("step", k);
                p.put("total", s.total());
                if (k == s.stepNanos().size()) {
                    p.put("eta_seconds", s.etaSeconds() < 0 ? null : Math.round(s.etaSeconds() * 1000) / 1000.0);
                }
                write(os, event("progress", p));
            }
            sentSteps = s.stepNanos().size();
            if (s.state().terminal()) {
                String name = switch (s.state()) {
                    case SUCCEEDED -> "done";
                    case FAILED -> "failed";
                    default -> "cancelled";
                };
                write(os, event(name, job.toJson()));
                return;
            }
        }
    }

    private static String event(String name, Object data) {
        return "event: " + name + "\ndata: " + Json.write(data) + "\n\n";
    }

    private void write(OutputStream os, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        os.write(b);
        os.flush();
        metrics.bytesOut.addAndGet(b.length);
    }

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> q = new LinkedHashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return q;
        }
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            try {
                String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
                q.putIfAbsent(k, v);
            } catch (IllegalArgumentException e) {
                throw new ApiError(400, null, "malformed query string");
            }
        }
        return q;
    }

    private void sendJson(HttpExchange ex, int status, Object body) throws IOException {
        send(ex, status, "application/json", Json.write(body).getBytes(StandardCharsets.UTF_8));
    }

    private void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
        metrics.bytesOut.addAndGet(body.length);
    }

    private void sendError(HttpExchange ex, ApiError e) {
        if (ex.getResponseCode() != -1) {
            return; // headers already went out (an event stream); nothing more to say
        }
        e.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        try {
            sendJson(ex, e.status(), e.body());
        } catch (IOException ignored) {
            // the client went away
        }
    }
}
