package org.euterpe.nn.dance;

import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code Downsample1d("cubic")} and {@code Upsample1d("cubic")}: a fixed 8-tap kernel
 * applied to every channel after reflect padding, halving or doubling the length. The kernel is
 * a buffer ({@code *.down.kernel}, {@code *.up.kernel}, the up one already doubled); a checkpoint's
 * stored buffer is what diffusers uses, so it is loaded when present, else the constant is.
 */
public final class Resample1d {
    /** diffusers' {@code _kernels["cubic"]}. */
    static final float[] CUBIC = {-0.01171875f, -0.03515625f, 0.11328125f, 0.43359375f, 0.43359375f, 0.11328125f,
            -0.03515625f, -0.01171875f};

    private final Tensor kernel;
    private final boolean up;

    private Resample1d(Tensor kernel, boolean up) {
        this.kernel = kernel;
        this.up = up;
    }

    /** {@code Downsample1d("cubic")} from {@code w} (the block's weights; the buffer is {@code down.kernel}). */
    public static Resample1d down(Weights w) {
        return new Resample1d(kernel(w, "down.kernel", 1f), false);
    }

    /** {@code Upsample1d("cubic")} from {@code w} (the buffer is {@code up.kernel}). */
    public static Resample1d up(Weights w) {
        return new Resample1d(kernel(w, "up.kernel", 2f), true);
    }

    private static Tensor kernel(Weights w, String name, float scale) {
        float[] k;
        if (w.has(name)) {
            k = w.floats(name);
            if (k.length != CUBIC.length) {
                throw new ModelLoadException("weight \"" + w.key(name) + "\" has " + k.length
                        + " taps; the cubic kernel of these blocks has " + CUBIC.length);
            }
        } else {
            k = CUBIC.clone();
            for (int i = 0; i < k.length; i++) {
                k[i] *= scale;
            }
        }
        return w.backend().fromArray(k, Shape.of(k.length));
    }

    /** {@code [batch, channels, L] -> [batch, channels, L/2]} (down) or {@code 2L} (up). */
    public Tensor forward(Tensor x) {
        return up ? x.backend().upsample1d(x, kernel) : x.backend().downsample1d(x, kernel);
    }
}
