package org.euterpe.pipeline;

/** Spherical linear interpolation, for text embeddings and Gaussian noise. Computed in double. */
final class Slerp {
    private Slerp() {
    }

    /**
     * {@code sin((1-t) w) / sin w * a + sin(t w) / sin w * b}, {@code w} the angle between {@code a} and
     * {@code b}; linear interpolation when they are (nearly) parallel, where the formula is 0/0.
     */
    static float[] of(float[] a, float[] b, double t) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("slerp of vectors of " + a.length + " and " + b.length + " values");
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        double cos = dot / Math.sqrt(na * nb);
        double wa;
        double wb;
        if (!(Math.abs(cos) < 0.9995)) {
            wa = 1 - t;
            wb = t;
        } else {
            double w = Math.acos(cos);
            double s = Math.sin(w);
            wa = Math.sin((1 - t) * w) / s;
            wb = Math.sin(t * w) / s;
        }
        float[] out = new float[a.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (wa * a[i] + wb * b[i]);
        }
        return out;
    }

    /** The slerp of {@code a} and {@code b} scaled to unit L2 norm (the U-Net's class labels are unit vectors). */
    static float[] normalised(float[] a, float[] b, double t) {
        float[] s = of(a, b, t);
        double n = 0;
        for (float v : s) {
            n += (double) v * v;
        }
        double inv = 1 / Math.max(Math.sqrt(n), 1e-12);
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (s[i] * inv);
        }
        return s;
    }
}
