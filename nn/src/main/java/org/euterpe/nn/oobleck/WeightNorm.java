package org.euterpe.nn.oobleck;

import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Conv1d;
import org.euterpe.nn.layers.ConvTranspose1d;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * Folds torch's {@code weight_norm} into a plain weight once, at load: {@code weight = v * (g / ||v||)}, the
 * norm over every dim but the first (torch's default {@code dim=0}), in the reference's float32 order. Reads
 * either form torch saves: {@code weight_g} / {@code weight_v}, or
 * {@code parametrizations.weight.original0} / {@code original1}; a plain {@code weight} (already folded, or
 * random weights for benchmarks) is taken as it is.
 */
final class WeightNorm {
    private WeightNorm() {
    }

    /** A weight-normalised {@code Conv1d(in, out, kernel)}. */
    static Conv1d conv1d(Weights w, int in, int out, int kernel, int stride, int padding, int dilation, boolean bias) {
        Tensor weight = fold(w, new int[] {out, in, kernel});
        return new Conv1d(weight, bias ? w.get("bias", out) : null, stride, padding, dilation);
    }

    /** A weight-normalised {@code ConvTranspose1d(in, out, kernel)}: torch's weight is {@code [in, out, k]}. */
    static ConvTranspose1d convTranspose1d(Weights w, int in, int out, int kernel, int stride, int padding) {
        Tensor weight = fold(w, new int[] {in, out, kernel});
        return new ConvTranspose1d(weight, w.get("bias", out), stride, padding);
    }

    private static Tensor fold(Weights w, int[] shape) {
        String gName;
        String vName;
        if (w.has("weight_g") || w.has("weight_v")) {
            gName = "weight_g";
            vName = "weight_v";
        } else if (w.has("parametrizations.weight.original0")) {
            gName = "parametrizations.weight.original0";
            vName = "parametrizations.weight.original1";
        } else if (w.has("weight")) {
            return w.get("weight", shape);
        } else {
            throw new ModelLoadException("missing weight-normalised weight " + w.key("weight_g") + " / "
                    + w.key("weight_v") + " (nor " + w.key("parametrizations.weight.original0") + ")");
        }
        float[] g;
        float[] v;
        try (var scope = org.euterpe.tensor.Scope.open()) {
            g = w.get(gName, shape[0], 1, 1).toFloatArray();
            v = w.get(vName, shape).toFloatArray();
        }
        int per = v.length / shape[0];
        float[] out = new float[v.length];
        for (int o = 0; o < shape[0]; o++) {
            double sq = 0;
            for (int i = 0; i < per; i++) {
                float x = v[o * per + i];
                sq += (double) x * x;
            }
            float norm = (float) Math.sqrt(sq);
            float scale = g[o] / norm;
            for (int i = 0; i < per; i++) {
                out[o * per + i] = v[o * per + i] * scale;
            }
        }
        return w.backend().fromArray(out, Shape.of(shape));
    }
}
