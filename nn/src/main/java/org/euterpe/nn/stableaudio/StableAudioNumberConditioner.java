package org.euterpe.nn.stableaudio;

import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * diffusers' {@code StableAudioNumberConditioner}: a number clamped to {@code [min_value, max_value]} and
 * normalised to {@code [0, 1]}, then learned Fourier features ({@code StableAudioPositionalEmbedding}:
 * {@code [t, sin(2π t w), cos(2π t w)]}) and a linear layer. The features of a handful of numbers are made
 * on the host, in float32 and in the reference's order of operations.
 */
public final class StableAudioNumberConditioner {
    /** diffusers fixes the Fourier features' width. */
    static final int INTERNAL_DIM = 256;

    private final float[] weights;
    private final Linear linear;
    private final float minValue;
    private final float maxValue;

    private StableAudioNumberConditioner(float[] weights, Linear linear, float minValue, float maxValue) {
        this.weights = weights;
        this.linear = linear;
        this.minValue = minValue;
        this.maxValue = maxValue;
    }

    static StableAudioNumberConditioner load(Weights w, int dim, double min, double max) {
        Weights emb = w.child("time_positional_embedding");
        int half = INTERNAL_DIM / 2;
        float[] weights = emb.child("0").get("weights", half).toFloatArray();
        return new StableAudioNumberConditioner(weights, Linear.load(emb.child("1"), 2 * half + 1, dim, true),
                (float) min, (float) max);
    }

    float maxValue() {
        return maxValue;
    }

    /** {@code [n]} seconds to {@code [n, 1, dim]}. */
    Tensor forward(float[] seconds, Backend backend) {
        int half = weights.length;
        int width = 2 * half + 1;
        float[] features = new float[seconds.length * width];
        for (int n = 0; n < seconds.length; n++) {
            float t = Math.min(Math.max(seconds[n], minValue), maxValue);
            t = (t - minValue) / (maxValue - minValue);
            int row = n * width;
            features[row] = t;
            for (int i = 0; i < half; i++) {
                float freq = t * weights[i] * 2f * (float) Math.PI; // ((t * w) * 2) * pi, each in float32
                features[row + 1 + i] = (float) Math.sin(freq);
                features[row + 1 + half + i] = (float) Math.cos(freq);
            }
        }
        try (Scope scope = Scope.open()) {
            Tensor x = backend.fromArray(features, Shape.of(seconds.length, width));
            Tensor y = linear.forward(x);
            return scope.keep(y.reshape(seconds.length, 1, y.dim(1)));
        }
    }
}
