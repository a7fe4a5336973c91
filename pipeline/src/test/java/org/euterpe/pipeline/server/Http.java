package org.euterpe.pipeline.server;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import org.euterpe.tensor.json.Json;

/** A small java.net.http client for the server tests. */
final class Http {
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final String base;
    final String key;

    Http(int port, String key) {
        this.base = "http://127.0.0.1:" + port;
        this.key = key;
    }

    HttpResponse<byte[]> send(String method, String path, byte[] body, String... headers) throws IOException,
            InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.setHeader(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
        return send("GET", path, null);
    }

    HttpResponse<byte[]> post(String path, String json) throws IOException, InterruptedException {
        return send("POST", path, json.getBytes(StandardCharsets.UTF_8));
    }

    HttpResponse<byte[]> delete(String path) throws IOException, InterruptedException {
        return send("DELETE", path, null);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(HttpResponse<byte[]> r) {
        return (Map<String, Object>) Json.parse(new String(r.body(), StandardCharsets.UTF_8));
    }

    static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    /** The {@code error.field} of an error answer. */
    @SuppressWarnings("unchecked")
    static Object field(HttpResponse<byte[]> r) {
        return ((Map<String, Object>) json(r).get("error")).get("field");
    }
}
