package org.euterpe.pipeline.hub;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Where the hub and the cache are, read from the environment variables huggingface_hub reads:
 * {@code HF_ENDPOINT} (default {@code https://huggingface.co}), {@code HF_TOKEN} (a bearer token for
 * gated and private repositories), {@code HF_HUB_CACHE} or {@code HF_HOME}/hub (default
 * {@code ~/.cache/huggingface/hub}) and {@code HF_HUB_OFFLINE=1} (never touch the network).
 *
 * @param retries  attempts after the first for a failed request or an interrupted transfer
 * @param backoff  the wait before the first retry; doubled each time
 * @param stall    how long a transfer may receive nothing before it counts as broken off (and is resumed)
 */
public record HubSettings(String endpoint, String token, Path cache, boolean offline, int retries, Duration backoff,
        Duration stall) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public HubSettings {
        while (endpoint.endsWith("/")) {
            endpoint = endpoint.substring(0, endpoint.length() - 1);
        }
        if (!endpoint.startsWith("http://") && !endpoint.startsWith("https://")) {
            throw new IllegalArgumentException("HF_ENDPOINT must start with http:// or https://, got " + endpoint);
        }
        if (token != null && token.isBlank()) {
            token = null;
        }
    }

    /** From the process environment. */
    public static HubSettings fromEnvironment() {
        return from(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** From {@code env} (a map, so tests need not change the real environment). */
    public static HubSettings from(Map<String, String> env, Path home) {
        String endpoint = env.getOrDefault("HF_ENDPOINT", DEFAULT_ENDPOINT);
        String token = env.get("HF_TOKEN");
        if (token == null) {
            token = env.get("HUGGING_FACE_HUB_TOKEN"); // the older name, still honoured by huggingface_hub
        }
        Path cache;
        if (env.get("HF_HUB_CACHE") != null) {
            cache = Path.of(env.get("HF_HUB_CACHE"));
        } else if (env.get("HF_HOME") != null) {
            cache = Path.of(env.get("HF_HOME")).resolve("hub");
        } else {
            String xdg = env.get("XDG_CACHE_HOME");
            cache = (xdg != null ? Path.of(xdg) : home.resolve(".cache")).resolve("huggingface").resolve("hub");
        }
        String off = env.getOrDefault("HF_HUB_OFFLINE", "");
        boolean offline = off.equals("1") || off.equalsIgnoreCase("true") || off.equalsIgnoreCase("yes")
                || off.equalsIgnoreCase("on");
        return new HubSettings(endpoint, token, cache, offline, 5, Duration.ofSeconds(1), Duration.ofSeconds(60));
    }

    public HubSettings withEndpoint(String e) {
        return new HubSettings(e, token, cache, offline, retries, backoff, stall);
    }

    public HubSettings withToken(String t) {
        return new HubSettings(endpoint, t, cache, offline, retries, backoff, stall);
    }

    public HubSettings withCache(Path c) {
        return new HubSettings(endpoint, token, c, offline, retries, backoff, stall);
    }

    public HubSettings withOffline(boolean o) {
        return new HubSettings(endpoint, token, cache, o, retries, backoff, stall);
    }

    public HubSettings withStall(Duration d) {
        return new HubSettings(endpoint, token, cache, offline, retries, backoff, d);
    }

    public HubSettings withRetries(int n, Duration first) {
        return new HubSettings(endpoint, token, cache, offline, n, first, stall);
    }
}
