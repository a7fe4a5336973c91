package org.euterpe.kernels.cpu;

/**
 * Per-thread scratch arrays: each holder keeps the largest array its thread has asked for and
 * hands it out again, so steady-state calls allocate nothing.
 */
final class ThreadScratch {
    private ThreadScratch() {
    }

    /** The thread's array in {@code holder}, replaced by a larger one when it has fewer than {@code size} floats; contents undefined. */
    static float[] floats(ThreadLocal<float[]> holder, long size) {
        float[] a = holder.get();
        if (a.length < size) {
            a = new float[Math.toIntExact(size)];
            holder.set(a);
        }
        return a;
    }

    /** {@link #floats} for bytes. */
    static byte[] bytes(ThreadLocal<byte[]> holder, long size) {
        byte[] a = holder.get();
        if (a.length < size) {
            a = new byte[Math.toIntExact(size)];
            holder.set(a);
        }
        return a;
    }

    /** {@link #floats} for shorts. */
    static short[] shorts(ThreadLocal<short[]> holder, long size) {
        short[] a = holder.get();
        if (a.length < size) {
            a = new short[Math.toIntExact(size)];
            holder.set(a);
        }
        return a;
    }
}
