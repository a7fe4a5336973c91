package org.euterpe.pipeline.server;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An HTTP error answer: a status and a JSON body {@code {"error": {"message", "field"?, "status"}}}.
 * {@code field} names the request field at fault for a validation error.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String field;
    private final Map<String, String> headers = new LinkedHashMap<>();

    public ApiError(int status, String field, String message) {
        super(message);
        this.status = status;
        this.field = field;
    }

    public static ApiError badField(String field, String message) {
        return new ApiError(400, field, message);
    }

    public ApiError header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public int status() {
        return status;
    }

    /** The request field at fault, or null. */
    public String field() {
        return field;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public Map<String, Object> body() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", getMessage());
        if (field != null) {
            e.put("field", field);
        }
        e.put("status", status);
        return Map.of("error", e);
    }
}
