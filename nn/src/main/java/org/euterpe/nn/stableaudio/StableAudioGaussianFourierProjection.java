package org.euterpe.nn.stableaudio;

import org.euterpe.nn.Weights;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * The DiT's timestep features ({@code log=False, flip_sin_to_cos=True}): {@code [cos(2π t w), sin(2π t w)]}
 * with the learned frequencies {@code w}. Made on the host in float32, in the reference's order
 * ({@code (2π · t) · w}).
 */
final class StableAudioGaussianFourierProjection {
    private final float[] weight;

    private StableAudioGaussianFourierProjection(float[] weight) {
        this.weight = weight;
    }

    static StableAudioGaussianFourierProjection load(Weights w, int embeddingSize) {
        return new StableAudioGaussianFourierProjection(w.get("weight", embeddingSize).toFloatArray());
    }

    /** {@code [batch]} timesteps to {@code [batch, 2 · embeddingSize]}. */
    Tensor forward(float[] timesteps, Backend backend) {
        int e = weight.length;
        float[] out = new float[timesteps.length * 2 * e];
        float twoPi = (float) (2 * Math.PI);
        for (int b = 0; b < timesteps.length; b++) {
            float t = twoPi * timesteps[b];
            for (int i = 0; i < e; i++) {
                float proj = t * weight[i];
                out[b * 2 * e + i] = (float) Math.cos(proj);
                out[b * 2 * e + e + i] = (float) Math.sin(proj);
            }
        }
        return backend.fromArray(out, Shape.of(timesteps.length, 2 * e));
    }
}
