package org.euterpe.tensor;

/**
 * Euterpe's own seeded Gaussian noise: counter-based, so element {@code i} of seed {@code s}
 * does not depend on how many elements are drawn, and the same on every backend and thread
 * count. SplitMix64 feeds the Box-Muller transform, evaluated in double with StrictMath so the
 * result is identical on every JVM.
 */
public final class NormalNoise {
    private NormalNoise() {
    }

    public static float[] sample(long seed, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i += 2) {
            long pair = i >>> 1;
            // Two independent uniforms per pair of outputs.
            double u1 = toUnitOpen(mix(seed, 2 * pair));
            double u2 = toUnitOpen(mix(seed, 2 * pair + 1));
            double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
            double theta = 2.0 * Math.PI * u2;
            out[i] = (float) (r * StrictMath.cos(theta));
            if (i + 1 < n) {
                out[i + 1] = (float) (r * StrictMath.sin(theta));
            }
        }
        return out;
    }

    /** SplitMix64 of (seed, counter). */
    private static long mix(long seed, long counter) {
        long z = seed * 0x9E3779B97F4A7C15L + (counter + 1) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in (0, 1): 53 random bits, never exactly 0. */
    private static double toUnitOpen(long bits) {
        return ((bits >>> 11) + 0.5) * 0x1.0p-53;
    }
}
