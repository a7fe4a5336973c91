package org.euterpe.pipeline.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.euterpe.converter.PublishedWeights;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonException;
import org.euterpe.tensor.json.JsonObject;

/**
 * Downloads a diffusers repository from the Hugging Face hub's public HTTP API into the
 * {@linkplain HubCache shared cache}:
 * <ol>
 *   <li>{@code GET /api/models/{repo}/revision/{rev}?blobs=true}: the commit and every file's size,
 *       git blob id and LFS SHA-256;</li>
 *   <li>{@code GET /{repo}/resolve/{commit}/{path}} for each {@linkplain FileSelection needed} file,
 *       following redirects (the bearer token goes only to the endpoint's own host), resuming a partial
 *       {@code .incomplete} file with {@code Range}, retrying network failures, 429 and 5xx with
 *       doubling waits;</li>
 *   <li>each file's size and hash checked (the LFS SHA-256, or the git blob SHA-1 of a small file) before
 *       it is renamed into {@code blobs/} and linked from {@code snapshots/{commit}/}.</li>
 * </ol>
 */
public final class HubClient {
    private static final int MAX_REDIRECTS = 5;

    /** The revision's commit and files. */
    public record RepoInfo(String commit, List<HubFile> files) {
    }

    private final HubSettings settings;
    private final HubCache cache;
    private final HttpClient http;
    private final DownloadListener listener;

    public HubClient(HubSettings settings, DownloadListener listener) {
        this.settings = settings;
        this.cache = new HubCache(settings.cache());
        this.listener = listener;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(20)).build();
    }

    public HubCache cache() {
        return cache;
    }

    /**
     * The snapshot folder for {@code id}, downloading whatever the cache lacks. Offline
     * ({@code HF_HUB_OFFLINE=1}), only the cache is used and what is missing is named.
     */
    public Path pull(RepoId id) throws IOException {
        if (settings.offline()) {
            return cached(id).orElseThrow(() -> notCached(id, "HF_HUB_OFFLINE is set"));
        }
        RepoInfo info;
        try {
            info = info(id);
        } catch (HubException e) {
            if (e.kind() == HubException.Kind.NETWORK) {
                Optional<Path> c = cached(id);
                if (c.isPresent()) {
                    listener.note("the hub cannot be reached (" + e.getMessage() + "); using the cached snapshot "
                            + c.get());
                    return c.get();
                }
            }
            throw e;
        }
        HubFile index = info.files().stream().filter(f -> f.path().equals("model_index.json")).findFirst()
                .orElseThrow(() -> new HubException(HubException.Kind.UNSUPPORTED, id.repo() + " at " + id.revision()
                        + " has no model_index.json: it is not a diffusers pipeline repository"));
        fetch(id, info.commit(), index);
        String indexText = Files.readString(cache.snapshotFile(id, info.commit(), "model_index.json"));
        List<HubFile> wanted;
        try {
            wanted = FileSelection.select(info.files(), indexText);
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Kind.UNSUPPORTED, id.repo() + ": " + e.getMessage());
        }
        for (HubFile f : wanted) {
            if (!f.path().equals("model_index.json")) {
                fetch(id, info.commit(), f);
            }
        }
        cache.writeRef(id, info.commit());
        Path snap = cache.snapshot(id, info.commit());
        List<String> missing = HubCache.missing(snap);
        if (!missing.isEmpty()) {
            throw new HubException(HubException.Kind.UNSUPPORTED, id.repo() + " lacks files the engine needs: "
                    + missing);
        }
        return snap;
    }

    /** The cached, complete snapshot of {@code id}, if there is one; no network. */
    public Optional<Path> cached(RepoId id) throws IOException {
        Optional<String> commit = cache.commitOf(id);
        if (commit.isEmpty()) {
            return Optional.empty();
        }
        Path snap = cache.snapshot(id, commit.get());
        return Files.isDirectory(snap) && HubCache.missing(snap).isEmpty() ? Optional.of(snap) : Optional.empty();
    }

    private HubException notCached(RepoId id, String why) {
        String detail;
        try {
            Optional<String> commit = cache.commitOf(id);
            if (commit.isEmpty()) {
                detail = "the cache " + cache.root() + " has no " + id + " (no refs/" + id.revision() + ")";
            } else {
                detail = "the cached snapshot " + cache.snapshot(id, commit.get()) + " lacks "
                        + HubCache.missing(cache.snapshot(id, commit.get()));
            }
        } catch (IOException | IllegalArgumentException e) {
            detail = "the cache cannot be read: " + e.getMessage();
        }
        return new HubException(HubException.Kind.NOT_CACHED, why + " and " + detail
                + "; run `euterpe pull " + id + "` on a machine with network access (or unset HF_HUB_OFFLINE)");
    }

    /** The revision's commit and file list, from {@code /api/models/{repo}/revision/{rev}?blobs=true}. */
    public RepoInfo info(RepoId id) throws IOException {
        URI uri = URI.create(settings.endpoint() + "/api/models/" + id.repo() + "/revision/"
                + URLEncoder.encode(id.revision(), StandardCharsets.UTF_8) + "?blobs=true");
        String what = id.repo() + " at revision " + id.revision();
        for (int attempt = 0; ; attempt++) {
            try {
                HttpResponse<InputStream> r = send(uri, null, what);
                try (InputStream body = r.body()) {
                    byte[] text = body.readNBytes(64 << 20);
                    return parseInfo(new String(text, StandardCharsets.UTF_8), id);
                }
            } catch (Retryable e) {
                backoff(attempt, e, what);
            } catch (IOException e) {
                if (e instanceof HubException) {
                    throw e;
                }
                backoff(attempt, new Retryable(e.toString(), -1), what);
            }
        }
    }

    /** Parses the API's answer: {@code sha} and {@code siblings[].{rfilename, size, blobId, lfs.sha256}}. */
    static RepoInfo parseInfo(String json, RepoId id) throws HubException {
        try {
            JsonObject o = new JsonObject(Json.parse(json), "the hub's answer for " + id.repo());
            String commit = o.getString("sha");
            if (!commit.matches("[0-9a-f]{40}")) {
                throw new IllegalArgumentException("\"sha\" is not a commit hash: " + commit);
            }
            List<HubFile> files = new ArrayList<>();
            for (Object s : o.getList("siblings")) {
                JsonObject f = new JsonObject(s, o.context() + ".siblings[]");
                String sha256 = null;
                long size = f.optLong("size", -1);
                if (f.has("lfs")) {
                    JsonObject lfs = f.getObject("lfs");
                    sha256 = lfs.getString("sha256").toLowerCase(Locale.ROOT);
                    if (!sha256.matches("[0-9a-f]{64}")) {
                        throw new IllegalArgumentException("lfs.sha256 of " + f.getString("rfilename")
                                + " is not a SHA-256: " + sha256);
                    }
                    size = lfs.optLong("size", size);
                }
                String blobId = f.optString("blobId", null);
                if (blobId != null && !blobId.matches("[0-9a-f]{40}")) {
                    throw new IllegalArgumentException("blobId of " + f.getString("rfilename") + " is not a git id");
                }
                files.add(new HubFile(f.getString("rfilename"), size, blobId, sha256));
            }
            return new RepoInfo(commit, List.copyOf(files));
        } catch (JsonException | IllegalArgumentException e) {
            throw new HubException(HubException.Kind.HTTP, "the hub's file list for " + id + " is not what its API"
                    + " returns: " + e.getMessage(), e);
        }
    }

    /** Puts one file into the cache (unless its blob is already there) and links it into the snapshot. */
    private void fetch(RepoId id, String commit, HubFile f) throws IOException {
        if (f.blobName() == null) {
            throw new HubException(HubException.Kind.HTTP, "the hub lists " + f.path() + " without a blob id or "
                    + "LFS hash, so it cannot be checked or cached");
        }
        Path blob = cache.blob(id, f.blobName());
        Path link = cache.snapshotFile(id, commit, f.path());
        if (Files.isRegularFile(blob) && (f.size() < 0 || Files.size(blob) == f.size())) {
            if (!Files.isRegularFile(link)) {
                cache.link(id, commit, f.path(), f.blobName());
            }
            listener.fileDone(f.path(), Files.size(blob), false);
            return;
        }
        Files.createDirectories(blob.getParent());
        Path part = cache.incomplete(id, f.blobName());
        URI uri = URI.create(settings.endpoint() + "/" + id.repo() + "/resolve/" + commit + "/" + encodePath(f.path()));
        boolean restartedAfterMismatch = false;
        for (int attempt = 0; ; attempt++) {
            try {
                transfer(uri, part, f);
            } catch (Retryable e) {
                backoff(attempt, e, f.path());
                continue;
            }
            String problem = check(part, f);
            if (problem == null) {
                break;
            }
            Files.deleteIfExists(part);
            if (restartedAfterMismatch) {
                throw new HubException(HubException.Kind.CORRUPT, f.path() + " from " + id + " is corrupt: " + problem
                        + " (downloaded twice; the partial file was removed)");
            }
            restartedAfterMismatch = true;
            listener.note(f.path() + ": " + problem + "; downloading it again from the start");
        }
        notePublished(id, f);
        try {
            Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(part, blob, StandardCopyOption.REPLACE_EXISTING);
        }
        cache.link(id, commit, f.path(), f.blobName());
        listener.fileDone(f.path(), Files.size(blob), true);
    }

    /** Compares with the hashes the converter knows for published files. */
    private void notePublished(RepoId id, HubFile f) {
        if (f.sha256() == null) {
            return;
        }
        for (PublishedWeights.File p : PublishedWeights.all()) {
            if (p.repository().equals(id.repo()) && p.path().equals(f.path())) {
                if (p.sha256().equalsIgnoreCase(f.sha256())) {
                    listener.note(f.path() + " is " + p.describe() + " (SHA-256 as recorded)");
                } else {
                    listener.note(f.path() + " differs from " + p.describe() + " recorded in this build (the "
                            + "repository has changed since; the hub's own hash was checked)");
                }
            }
        }
    }

    /** One attempt: appends to {@code part} from its current length. */
    private void transfer(URI uri, Path part, HubFile f) throws IOException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (f.size() >= 0 && have > f.size()) {
            Files.delete(part);
            have = 0;
        }
        if (f.size() >= 0 && have == f.size() && have > 0) {
            return; // complete from an earlier run; checked by the caller
        }
        HttpResponse<InputStream> r;
        try {
            r = send(uri, have > 0 ? "bytes=" + have + "-" : null, f.path());
        } catch (RangeNotSatisfiable e) {
            Files.deleteIfExists(part);
            throw new Retryable("the server refused to resume " + f.path() + "; starting again", 0);
        }
        boolean append = false;
        if (r.statusCode() == 206) {
            String range = r.headers().firstValue("Content-Range").orElse("");
            if (!range.startsWith("bytes " + have + "-")) {
                r.body().close();
                Files.deleteIfExists(part);
                throw new Retryable("the server resumed " + f.path() + " at the wrong place (" + range + ")", 0);
            }
            append = true;
        } else {
            have = 0;
        }
        listener.fileStarted(f.path(), f.size(), have);
        long written = have;
        // The HTTP client has no read timeout once headers arrived: a watchdog interrupts a read that
        // receives nothing for settings.stall(), which then counts as a broken-off transfer.
        Thread reader = Thread.currentThread();
        long[] lastRead = {System.nanoTime()};
        boolean[] stalled = {false};
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    Thread.sleep(Math.max(10, settings.stall().toMillis() / 4));
                    if (System.nanoTime() - lastRead[0] > settings.stall().toNanos()) {
                        synchronized (stalled) {
                            stalled[0] = true;
                            reader.interrupt();
                        }
                        return;
                    }
                }
            } catch (InterruptedException done) {
                // the transfer ended
            }
        });
        try (InputStream in = r.body();
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 16];
            int n;
            long lastReport = 0;
            while ((n = in.read(buf)) > 0) {
                lastRead[0] = System.nanoTime();
                out.write(buf, 0, n);
                written += n;
                if (f.size() >= 0 && written > f.size()) {
                    break; // more than the hub said: checked (and refused) by the caller
                }
                long now = System.nanoTime();
                if (now - lastReport > 100_000_000L) {
                    listener.progress(f.path(), written);
                    lastReport = now;
                }
            }
        } catch (IOException e) {
            synchronized (stalled) {
                if (stalled[0]) {
                    Thread.interrupted(); // the watchdog's interrupt, not the caller's
                    throw new Retryable("the transfer of " + f.path() + " stalled at " + written + " bytes (nothing for "
                            + settings.stall().toSeconds() + " s)", -1);
                }
            }
            if (Thread.currentThread().isInterrupted()) {
                throw e;
            }
            throw new Retryable("the transfer of " + f.path() + " broke off at " + written + " bytes (" + e + ")", -1);
        } finally {
            synchronized (stalled) {
                watchdog.interrupt();
                if (stalled[0]) {
                    Thread.interrupted();
                }
            }
        }
        listener.progress(f.path(), written);
        if (f.size() >= 0 && written < f.size()) {
            throw new Retryable("the transfer of " + f.path() + " ended at " + written + " of " + f.size()
                    + " bytes", -1);
        }
    }

    /** Null when {@code part} has the file's size and hash, else what is wrong. */
    private static String check(Path part, HubFile f) throws IOException {
        long size = Files.size(part);
        if (f.size() >= 0 && size != f.size()) {
            return "its size is " + size + " bytes, the hub says " + f.size();
        }
        if (f.sha256() != null) {
            String got = digest(part, "SHA-256", null);
            return got.equals(f.sha256()) ? null : "its SHA-256 is " + got + ", the hub says " + f.sha256();
        }
        String got = digest(part, "SHA-1", ("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
        return got.equals(f.blobId()) ? null : "its git blob id is " + got + ", the hub says " + f.blobId();
    }

    static String digest(Path file, String algorithm, byte[] prefix) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK provides " + algorithm, e);
        }
        if (prefix != null) {
            md.update(prefix);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** A failure worth another attempt; {@code retryAfterSeconds} from the server, or -1. */
    private static final class Retryable extends IOException {
        final long retryAfterSeconds;

        Retryable(String message, long retryAfterSeconds) {
            super(message);
            this.retryAfterSeconds = retryAfterSeconds;
        }
    }

    private static final class RangeNotSatisfiable extends IOException {
    }

    private void backoff(int attempt, Retryable e, String what) throws IOException {
        if (attempt >= settings.retries()) {
            throw new HubException(HubException.Kind.NETWORK, "giving up on " + what + " after " + (attempt + 1)
                    + " attempts: " + e.getMessage() + " (HF_ENDPOINT=" + settings.endpoint() + ")", e);
        }
        long millis = settings.backoff().toMillis() << Math.min(attempt, 10);
        if (e.retryAfterSeconds > 0) {
            millis = Math.max(millis, Math.min(e.retryAfterSeconds, 120) * 1000);
        }
        listener.note(e.getMessage() + "; retry " + (attempt + 1) + " of " + settings.retries() + " in "
                + String.format(Locale.ROOT, "%.1f", millis / 1000.0) + " s");
        try {
            Thread.sleep(millis);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry " + what);
        }
    }

    /**
     * A GET that follows up to {@value #MAX_REDIRECTS} redirects and returns a 200 or 206 response;
     * other statuses become the matching {@link HubException} or a {@link Retryable}.
     */
    private HttpResponse<InputStream> send(URI uri, String range, String what) throws IOException {
        URI endpoint = URI.create(settings.endpoint());
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(Duration.ofSeconds(60))
                    .header("User-Agent", "euterpe/0.1");
            if (range != null) {
                b.header("Range", range);
            }
            if (settings.token() != null && sameOrigin(uri, endpoint)) {
                b.header("Authorization", "Bearer " + settings.token());
            }
            HttpResponse<InputStream> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while fetching " + what);
            } catch (IOException e) {
                throw new Retryable("cannot reach " + uri.getHost() + " for " + what + " (" + e + ")", -1);
            }
            int s = r.statusCode();
            if (s == 200 || s == 206) {
                return r;
            }
            String message = errorText(r);
            if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
                Optional<String> to = r.headers().firstValue("Location");
                if (to.isEmpty()) {
                    throw new HubException(HubException.Kind.HTTP, "the hub redirected " + what + " without a Location");
                }
                uri = uri.resolve(to.get());
                continue;
            }
            switch (s) {
                case 401, 403 -> throw new HubException(HubException.Kind.UNAUTHORIZED, what + ": the hub answered " + s
                        + (settings.token() == null ? " and no token was sent" : " to the token in HF_TOKEN")
                        + ". The repository is gated or private: open its page on " + settings.endpoint()
                        + ", accept its licence while logged in, create a read token (Settings > Access Tokens) and "
                        + "set HF_TOKEN to it" + message);
                case 404 -> throw new HubException(HubException.Kind.NOT_FOUND, what + ": not found on "
                        + settings.endpoint() + " (check the repository name and revision; a private repository "
                        + "also answers 404 without HF_TOKEN)" + message);
                case 416 -> throw new RangeNotSatisfiable();
                default -> {
                    if (s == 429 || s >= 500) {
                        long after = r.headers().firstValue("Retry-After").map(HubClient::seconds).orElse(-1L);
                        throw new Retryable("the hub answered " + s + " for " + what + message, after);
                    }
                    throw new HubException(HubException.Kind.HTTP, "the hub answered " + s + " for " + what + message);
                }
            }
        }
        throw new HubException(HubException.Kind.HTTP, "more than " + MAX_REDIRECTS + " redirects for " + what);
    }

    private static long seconds(String retryAfter) {
        try {
            return Long.parseLong(retryAfter.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The server's error text (the hub sends X-Error-Message or a JSON {"error": ...}), shortened; body closed. */
    private static String errorText(HttpResponse<InputStream> r) {
        Optional<String> header = r.headers().firstValue("X-Error-Message");
        String text = "";
        try (InputStream in = r.body()) {
            byte[] b = in.readNBytes(2048);
            text = new String(b, StandardCharsets.UTF_8).strip();
            if (text.startsWith("{")) {
                Object o = Json.parse(text);
                if (o instanceof Map<?, ?> m && m.get("error") instanceof String s) {
                    text = s;
                }
            }
        } catch (IOException | JsonException e) {
            // the status says enough
        }
        String msg = header.orElse(text);
        if (msg.isEmpty() || msg.startsWith("<")) {
            return "";
        }
        return " (\"" + (msg.length() > 200 ? msg.substring(0, 200) + "…" : msg) + "\")";
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /** Percent-encodes each path segment, keeping the slashes. */
    static String encodePath(String path) {
        StringBuilder sb = new StringBuilder();
        for (String seg : path.split("/", -1)) {
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(URLEncoder.encode(seg, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return sb.toString();
    }
}
