package org.euterpe.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WorkspaceTest {
    @Test
    void growsToTheLargestRequestAndReusesIt() {
        Workspace w = new Workspace();
        float[] a = w.take(100);
        assertTrue(a.length >= 100);
        w.give(a);
        assertSame(a, w.take(50), "a smaller request reuses the held array");
        w.give(a);
        float[] b = w.take(1000);
        assertTrue(b.length >= 1000);
        w.give(b);
        assertEquals(b.length, w.heldFloats());
        assertSame(b, w.take(1000));
    }

    @Test
    void aSecondTakerGetsItsOwnArrayAndTheLargerIsKept() {
        Workspace w = new Workspace();
        float[] first = w.take(10);
        float[] second = w.take(10); // while the first is still out
        assertNotSame(first, second);
        float[] big = w.take(500);
        w.give(big);
        w.give(first); // smaller: the workspace keeps the larger one
        assertEquals(big.length, w.heldFloats());
        w.give(second);
        assertSame(big, w.take(1));
        assertEquals(0, w.heldFloats(), "nothing held while the array is out");
    }

    @Test
    void releaseAllDropsIdleArraysButNotOnesInUse() {
        Workspace idle = new Workspace();
        Workspace busy = new Workspace();
        idle.give(idle.take(1000));
        float[] out = busy.take(2000);
        Workspace.releaseAll();
        assertEquals(0, idle.heldFloats());
        busy.give(out);
        assertSame(out, busy.take(2000), "an array taken during the release comes back into use");
    }
}
