package org.euterpe.pipeline.hub;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import org.euterpe.tensor.json.Json;

/**
 * A Hugging Face hub on loopback for tests, answering as the real one does (huggingface_hub's
 * {@code file_download.py} and the hub's API docs): {@code GET /api/models/{repo}/revision/{rev}?blobs=true}
 * with {@code sha} and {@code siblings[].{rfilename, blobId, size, lfs{sha256, size, pointerSize}}};
 * {@code GET /{repo}/resolve/{rev}/{path}} with {@code X-Repo-Commit} and {@code ETag}, small files
 * directly and LFS files as a 302 to a "CDN" URL on another host name ({@code localhost} instead of
 * {@code 127.0.0.1}) with {@code X-Linked-Etag}/{@code X-Linked-Size}; the CDN honours
 * {@code Range} (206 + {@code Content-Range}, 416 beyond the end). Faults on demand: a transfer that
 * breaks off half-way, a corrupted file, 5xx answers, a gated repository.
 */
public final class MockHub implements AutoCloseable {
    /** One request as received. */
    record Request(String method, String path, String range, String authorization) {
    }

    private record Entry(String path, byte[] data, boolean lfs, String sha256, String blobId) {
    }

    final String repo;
    public final String commit;
    private final Map<String, Entry> files = new LinkedHashMap<>();
    private final Map<String, Entry> bySha = new ConcurrentHashMap<>();
    private final HttpServer server;
    final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    /** Paths whose next CDN transfer sends only half its bytes and drops the connection. */
    final Set<String> interruptOnce = ConcurrentHashMap.newKeySet();
    /** Paths whose next CDN transfer sends half its bytes, then nothing (the connection stays open a while). */
    final Set<String> stallOnce = ConcurrentHashMap.newKeySet();
    /** Paths served with one byte flipped (every time). */
    final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    /** How many API requests still answer 503. */
    final AtomicInteger apiFailures = new AtomicInteger();
    /** When set, the CDN ignores Range and always sends the whole file (as some mirrors do). */
    volatile boolean ignoreRange;
    /** When set, the token a request needs (401 without one, 403 with another). */
    public volatile String gatedToken;

    public MockHub(String repo, Path folder) throws IOException {
        this.repo = repo;
        this.commit = hex(digest("SHA-1", (repo + folder).getBytes(StandardCharsets.UTF_8)));
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                String rel = folder.relativize(p).toString().replace('\\', '/');
                if (!rel.startsWith("golden")) {
                    put(rel, Files.readAllBytes(p));
                }
            }
        }
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    /** Adds or replaces a file; weights ({@code .safetensors .bin .ckpt}) are stored in LFS. */
    void put(String path, byte[] data) {
        boolean lfs = path.endsWith(".safetensors") || path.endsWith(".bin") || path.endsWith(".ckpt");
        String sha = hex(digest("SHA-256", data));
        byte[] stored = lfs ? ("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha + "\nsize " + data.length
                + "\n").getBytes(StandardCharsets.UTF_8) : data;
        byte[] header = ("blob " + stored.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[header.length + stored.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(stored, 0, all, header.length, stored.length);
        Entry e = new Entry(path, data, lfs, sha, hex(digest("SHA-1", all)));
        files.put(path, e);
        bySha.put(sha, e);
    }

    byte[] data(String path) {
        return files.get(path).data();
    }

    String sha256(String path) {
        return files.get(path).sha256();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The requests for files through the resolve route, as repository paths. */
    public List<String> resolved() {
        String prefix = "/" + repo + "/resolve/";
        synchronized (requests) {
            return requests.stream().filter(r -> r.path().startsWith(prefix))
                    .map(r -> r.path().substring(r.path().indexOf('/', prefix.length()) + 1)).toList();
        }
    }

    List<Request> cdnRequests() {
        synchronized (requests) {
            return requests.stream().filter(r -> r.path().startsWith("/cdn/")).toList();
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = URLDecoder.decode(ex.getRequestURI().getRawPath(), StandardCharsets.UTF_8);
            requests.add(new Request(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Range"),
                    ex.getRequestHeaders().getFirst("Authorization")));
            if (path.startsWith("/cdn/")) {
                cdn(ex, path.substring(5));
                return;
            }
            String api = "/api/models/" + repo + "/revision/";
            String resolve = "/" + repo + "/resolve/";
            if (!path.startsWith(api) && !path.startsWith(resolve)) {
                json(ex, 404, Map.of("error", "Repository not found"));
                return;
            }
            if (gatedToken != null) {
                String auth = ex.getRequestHeaders().getFirst("Authorization");
                if (auth == null) {
                    json(ex, 401, Map.of("error", "Access to model " + repo + " is restricted. You must be "
                            + "authenticated to access it."));
                    return;
                }
                if (!auth.equals("Bearer " + gatedToken)) {
                    json(ex, 403, Map.of("error", "Access to model " + repo + " is restricted and you are not in "
                            + "the authorized list."));
                    return;
                }
            }
            if (path.startsWith(api)) {
                if (apiFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    ex.getResponseHeaders().set("Retry-After", "0");
                    json(ex, 503, Map.of("error", "Service Unavailable"));
                    return;
                }
                String rev = path.substring(api.length());
                if (!rev.equals("main") && !rev.equals(commit)) {
                    json(ex, 404, Map.of("error", "Invalid rev id: " + rev));
                    return;
                }
                json(ex, 200, info());
                return;
            }
            String rest = path.substring(resolve.length());
            int slash = rest.indexOf('/');
            String rev = rest.substring(0, slash);
            Entry e = files.get(rest.substring(slash + 1));
            if (e == null || !(rev.equals("main") || rev.equals(commit))) {
                ex.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
                json(ex, 404, Map.of("error", "Entry not found"));
                return;
            }
            ex.getResponseHeaders().set("X-Repo-Commit", commit);
            if (e.lfs()) {
                ex.getResponseHeaders().set("X-Linked-Etag", "\"" + e.sha256() + "\"");
                ex.getResponseHeaders().set("X-Linked-Size", Long.toString(e.data().length));
                ex.getResponseHeaders().set("ETag", "\"" + e.blobId() + "\"");
                ex.getResponseHeaders().set("Location", "http://localhost:" + server.getAddress().getPort() + "/cdn/"
                        + e.sha256() + "?X-Amz-Signature=abc");
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().set("ETag", "\"" + e.blobId() + "\"");
            body(ex, 200, served(e), 0, e.data().length, false);
        }
    }

    private void cdn(HttpExchange ex, String sha) throws IOException {
        Entry e = bySha.get(sha);
        if (e == null) {
            ex.sendResponseHeaders(404, -1);
            return;
        }
        byte[] data = served(e);
        ex.getResponseHeaders().set("ETag", "\"" + e.sha256() + "\"");
        ex.getResponseHeaders().set("Accept-Ranges", "bytes");
        String range = ex.getRequestHeaders().getFirst("Range");
        boolean cut = interruptOnce.remove(e.path());
        if (stallOnce.remove(e.path())) {
            ex.sendResponseHeaders(200, data.length);
            ex.getResponseBody().write(data, 0, data.length / 2);
            ex.getResponseBody().flush();
            try {
                Thread.sleep(5000);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        if (range != null && !ignoreRange) {
            long from = Long.parseLong(range.substring("bytes=".length(), range.indexOf('-')));
            if (from >= data.length) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + data.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
            body(ex, 206, data, (int) from, data.length, cut);
            return;
        }
        body(ex, 200, data, 0, data.length, cut);
    }

    private byte[] served(Entry e) {
        if (!corrupt.contains(e.path())) {
            return e.data();
        }
        byte[] d = e.data().clone();
        d[d.length / 2] ^= 0x5A;
        return d;
    }

    /** Sends data[from, to); with {@code cut}, only half of it, then the connection drops. */
    private static void body(HttpExchange ex, int status, byte[] data, int from, int to, boolean cut) throws IOException {
        ex.sendResponseHeaders(status, to - from);
        OutputStream os = ex.getResponseBody();
        if (cut) {
            os.write(data, from, (to - from) / 2);
            os.flush();
            // Closing now, short of the announced length, makes the server drop the connection.
            return;
        }
        os.write(data, from, to - from);
        os.close();
    }

    private Map<String, Object> info() {
        List<Object> siblings = new ArrayList<>();
        for (Entry e : files.values()) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("rfilename", e.path());
            s.put("blobId", e.blobId());
            s.put("size", e.data().length);
            if (e.lfs()) {
                s.put("lfs", Map.of("sha256", e.sha256(), "size", e.data().length, "pointerSize", 134));
            }
            siblings.add(s);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_id", "0123456789abcdef01234567");
        m.put("id", repo);
        m.put("modelId", repo);
        m.put("private", false);
        m.put("gated", gatedToken != null ? "manual" : false);
        m.put("disabled", false);
        m.put("library_name", "diffusers");
        m.put("tags", List.of("diffusers", "safetensors", "text-to-audio"));
        m.put("pipeline_tag", "text-to-audio");
        m.put("sha", commit);
        m.put("lastModified", "2023-08-01T12:00:00.000Z");
        m.put("siblings", siblings);
        m.put("usedStorage", files.values().stream().mapToLong(e -> e.data().length).sum());
        return m;
    }

    private static void json(HttpExchange ex, int status, Object body) throws IOException {
        byte[] b = Json.write(body).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        if (status == 401 || status == 403 || status == 404) {
            ex.getResponseHeaders().set("X-Error-Message", ((Map<?, ?>) body).get("error").toString());
        }
        body(ex, status, b, 0, b.length, false);
    }

    static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
