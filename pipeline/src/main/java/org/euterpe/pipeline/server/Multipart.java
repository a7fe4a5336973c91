package org.euterpe.pipeline.server;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A strict reader of {@code multipart/form-data} bodies (RFC 7578 over RFC 2046's delimiters): the
 * boundary from the Content-Type, parts separated by {@code CRLF--boundary}, each with a
 * {@code Content-Disposition: form-data; name="..."} header. At most {@value #MAX_PARTS} parts, header
 * blocks of at most {@value #MAX_HEADER_BYTES} bytes, no duplicate names; anything else is an
 * {@link ApiError} 400 naming the problem.
 */
public final class Multipart {
    static final int MAX_PARTS = 8;
    static final int MAX_HEADER_BYTES = 4096;

    /** One form field or file. */
    public record Part(String name, String filename, String contentType, byte[] data) {
    }

    private Multipart() {
    }

    /** The parts by name, in order. */
    public static Map<String, Part> parse(String contentType, byte[] body) {
        byte[] delimiter = ("--" + boundary(contentType)).getBytes(StandardCharsets.ISO_8859_1);
        int at = indexOf(body, delimiter, 0);
        if (at < 0 || at > 0 && !(at >= 2 && body[at - 2] == '\r' && body[at - 1] == '\n')) {
            throw bad("the body does not start with the boundary");
        }
        Map<String, Part> parts = new LinkedHashMap<>();
        int pos = at + delimiter.length;
        while (true) {
            if (startsWith(body, pos, "--")) {
                return parts; // the close delimiter; anything after it is an epilogue, ignored
            }
            pos = skipLinearWhitespace(body, pos);
            if (!startsWith(body, pos, "\r\n")) {
                throw bad("a boundary line does not end with CRLF");
            }
            pos += 2;
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
            if (headersEnd < 0 || headersEnd - pos > MAX_HEADER_BYTES) {
                throw bad("a part's headers do not end (or are longer than " + MAX_HEADER_BYTES + " bytes)");
            }
            String headers = new String(body, pos, headersEnd - pos, StandardCharsets.UTF_8);
            int dataStart = headersEnd + 4;
            byte[] next = new byte[delimiter.length + 2];
            next[0] = '\r';
            next[1] = '\n';
            System.arraycopy(delimiter, 0, next, 2, delimiter.length);
            int dataEnd = indexOf(body, next, dataStart);
            if (dataEnd < 0) {
                throw bad("a part is not closed by the boundary");
            }
            Part p = part(headers, Arrays.copyOfRange(body, dataStart, dataEnd));
            if (parts.size() >= MAX_PARTS) {
                throw bad("more than " + MAX_PARTS + " parts");
            }
            if (parts.putIfAbsent(p.name(), p) != null) {
                throw bad("the field \"" + p.name() + "\" appears twice");
            }
            pos = dataEnd + next.length;
        }
    }

    private static Part part(String headers, byte[] data) {
        String name = null;
        String filename = null;
        String type = null;
        for (String line : headers.split("\r\n", -1)) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw bad("a part has a malformed header line");
            }
            String key = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            if (key.equals("content-disposition")) {
                Map<String, String> params = params(value);
                if (!value.toLowerCase(Locale.ROOT).startsWith("form-data")) {
                    throw bad("a part's Content-Disposition is not form-data");
                }
                name = params.get("name");
                filename = params.get("filename");
            } else if (key.equals("content-type")) {
                type = value;
            }
        }
        if (name == null || name.isEmpty()) {
            throw bad("a part has no Content-Disposition name");
        }
        return new Part(name, filename, type, data);
    }

    /** The boundary parameter of a multipart/form-data Content-Type. */
    static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new ApiError(415, null, "send the audio as multipart/form-data (e.g. curl -F audio=@in.wav "
                    + "-F 'request={\"prompt\": ...}')");
        }
        String b = params(contentType).get("boundary");
        if (b == null || b.isEmpty() || b.length() > 70) {
            throw bad("the multipart/form-data Content-Type needs a boundary of 1 to 70 characters");
        }
        return b;
    }

    /** {@code type; a=1; b="x; y"} → {a=1, b=x; y}; keys lower-cased. */
    private static Map<String, String> params(String header) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = header.indexOf(';');
        while (i >= 0 && i < header.length()) {
            int eq = header.indexOf('=', i + 1);
            if (eq < 0) {
                break;
            }
            String key = header.substring(i + 1, eq).strip().toLowerCase(Locale.ROOT);
            int j = eq + 1;
            while (j < header.length() && header.charAt(j) == ' ') {
                j++;
            }
            String value;
            if (j < header.length() && header.charAt(j) == '"') {
                StringBuilder sb = new StringBuilder();
                int k = j + 1;
                while (k < header.length() && header.charAt(k) != '"') {
                    if (header.charAt(k) == '\\' && k + 1 < header.length()) {
                        k++;
                    }
                    sb.append(header.charAt(k++));
                }
                if (k >= header.length()) {
                    throw bad("an unterminated quoted header parameter");
                }
                value = sb.toString();
                i = header.indexOf(';', k + 1);
            } else {
                int end = header.indexOf(';', j);
                value = header.substring(j, end < 0 ? header.length() : end).strip();
                i = end;
            }
            out.putIfAbsent(key, value);
        }
        return out;
    }

    private static ApiError bad(String message) {
        return new ApiError(400, null, "malformed multipart body: " + message);
    }

    private static boolean startsWith(byte[] b, int at, String s) {
        if (at + s.length() > b.length) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int skipLinearWhitespace(byte[] b, int at) {
        while (at < b.length && (b[at] == ' ' || b[at] == '\t')) {
            at++;
        }
        return at;
    }

    /** The first index of {@code needle} in {@code hay} at or after {@code from}, or -1 (Knuth-Morris-Pratt: linear). */
    static int indexOf(byte[] hay, byte[] needle, int from) {
        int[] fail = new int[needle.length];
        for (int i = 1, k = 0; i < needle.length; i++) {
            while (k > 0 && needle[i] != needle[k]) {
                k = fail[k - 1];
            }
            if (needle[i] == needle[k]) {
                k++;
            }
            fail[i] = k;
        }
        for (int i = Math.max(0, from), k = 0; i < hay.length; i++) {
            while (k > 0 && hay[i] != needle[k]) {
                k = fail[k - 1];
            }
            if (hay[i] == needle[k]) {
                k++;
            }
            if (k == needle.length) {
                return i - needle.length + 1;
            }
        }
        return -1;
    }
}
