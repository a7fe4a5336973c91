package org.euterpe.tensor.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Typed access: conversions that are exact succeed, others fail naming the context and key. */
class JsonObjectTest {
    private final JsonObject o = new JsonObject(Json.parse("""
            {"i": 3, "big": 3000000000, "f": 2.0, "half": 2.5, "s": "x", "b": true, "n": null,
             "ints": [1, 2.0, -3], "wide": [1, 3000000000], "strs": ["a", "b"], "sub": {"k": 1}}
            """), "unet/config.json");

    @Test
    void exactIntegers() {
        assertEquals(3, o.getInt("i"));
        assertEquals(2, o.getInt("f"));
        assertEquals(3_000_000_000L, o.getLong("big"));
        assertArrayEquals(new int[] {1, 2, -3}, o.getIntArray("ints"));
        assertEquals(7, o.optInt("n", 7));
        assertEquals(8L, o.optLong("absent", 8));
    }

    @Test
    void inexactIntegersFailWithTheContext() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.getInt("big"));
        assertTrue(e.getMessage().contains("unet/config.json") && e.getMessage().contains("\"big\""), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> o.getInt("half"));
        assertThrows(IllegalArgumentException.class, () -> o.getLong("s"));
        e = assertThrows(IllegalArgumentException.class, () -> o.getIntArray("wide"));
        assertTrue(e.getMessage().contains("\"wide\"[1]"), e.getMessage());
    }

    @Test
    void otherTypes() {
        assertEquals("x", o.getString("s"));
        assertEquals(2.5, o.getDouble("half"));
        assertTrue(o.getBoolean("b"));
        assertEquals(List.of("a", "b"), o.getStringList("strs"));
        assertEquals(1, o.getObject("sub").getInt("k"));
        assertEquals("unet/config.json.sub", o.getObject("sub").context());
        assertFalse(o.has("n"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.getString("absent"));
        assertTrue(e.getMessage().contains("missing key \"absent\""), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> o.getString("i"));
        assertThrows(IllegalArgumentException.class, () -> new JsonObject(List.of(), "ctx"));
    }
}
