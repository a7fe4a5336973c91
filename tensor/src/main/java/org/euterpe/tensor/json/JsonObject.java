package org.euterpe.tensor.json;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Typed access to a parsed JSON object, with errors that name the key and its context
 * (e.g. the config file). Absent and null keys are treated alike by the {@code opt} getters.
 */
public final class JsonObject {
    private final Map<String, Object> map;
    private final String context;

    @SuppressWarnings("unchecked")
    public JsonObject(Object parsed, String context) {
        if (!(parsed instanceof Map)) {
            throw new IllegalArgumentException(context + ": expected a JSON object");
        }
        this.map = (Map<String, Object>) parsed;
        this.context = context;
    }

    public Map<String, Object> map() {
        return map;
    }

    public String context() {
        return context;
    }

    public boolean has(String key) {
        return map.get(key) != null;
    }

    public Object raw(String key) {
        return map.get(key);
    }

    private Object require(String key) {
        Object v = map.get(key);
        if (v == null) {
            throw new IllegalArgumentException(context + ": missing key \"" + key + "\"");
        }
        return v;
    }

    private <T> T as(String key, Object v, Class<T> type, String what) {
        if (!type.isInstance(v)) {
            throw new IllegalArgumentException(context + ": \"" + key + "\" should be " + what + ", got " + v);
        }
        return type.cast(v);
    }

    public String getString(String key) {
        return as(key, require(key), String.class, "a string");
    }

    public String optString(String key, String dflt) {
        return has(key) ? getString(key) : dflt;
    }

    public double getDouble(String key) {
        return as(key, require(key), Number.class, "a number").doubleValue();
    }

    public double optDouble(String key, double dflt) {
        return has(key) ? getDouble(key) : dflt;
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v != (int) v) {
            throw new IllegalArgumentException(context + ": \"" + key + "\" = " + v + " does not fit an int");
        }
        return (int) v;
    }

    /** An integer value; integral doubles such as {@code 2.0} are accepted. */
    public long getLong(String key) {
        Object v = require(key);
        Long l = exactLong(v);
        if (l == null) {
            throw new IllegalArgumentException(context + ": \"" + key + "\" should be an integer, got " + v);
        }
        return l;
    }

    public long optLong(String key, long dflt) {
        return has(key) ? getLong(key) : dflt;
    }

    /** {@code v} as a long when it is a number with an exact long value, else null. */
    private static Long exactLong(Object v) {
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p63) {
            return d.longValue();
        }
        return null;
    }

    public int optInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    public boolean getBoolean(String key) {
        return as(key, require(key), Boolean.class, "true or false");
    }

    public boolean optBoolean(String key, boolean dflt) {
        return has(key) ? getBoolean(key) : dflt;
    }

    public JsonObject getObject(String key) {
        return new JsonObject(require(key), context + "." + key);
    }

    @SuppressWarnings("unchecked")
    public List<Object> getList(String key) {
        return as(key, require(key), List.class, "a list");
    }

    public int[] getIntArray(String key) {
        List<Object> l = getList(key);
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            Long v = exactLong(l.get(i));
            if (v == null || v != v.intValue()) {
                throw new IllegalArgumentException(context + ": \"" + key + "\"[" + i + "] should be an int, got "
                        + l.get(i));
            }
            out[i] = v.intValue();
        }
        return out;
    }

    public List<String> getStringList(String key) {
        List<Object> l = getList(key);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof String s)) {
                throw new IllegalArgumentException(context + ": \"" + key + "\"[" + i + "] should be a string");
            }
            out.add(s);
        }
        return out;
    }
}
