package org.euterpe.nn.unet;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * diffusers Timesteps ({@code get_timestep_embedding}): the sinusoidal embedding of (possibly
 * fractional) timesteps. Computed on the host in float32 step by step as torch does it, because
 * the argument {@code t * freq} reaches ~1000 and one float rounding of it moves sin/cos by ~1e-4:
 *
 * <pre>
 * exponent[i] = -ln(10000) * i / (half - freq_shift)       i in [0, half)
 * arg[b, i]   = t[b] * exp(exponent[i])
 * emb[b]      = cat(sin(arg), cos(arg)), or cat(cos, sin) with flip_sin_to_cos; zero-padded to odd widths
 * </pre>
 */
public final class Timesteps {
    private final int numChannels;
    private final boolean flipSinToCos;
    private final float[] freqs;

    public Timesteps(int numChannels, boolean flipSinToCos, double downscaleFreqShift) {
        this.numChannels = numChannels;
        this.flipSinToCos = flipSinToCos;
        int half = numChannels / 2;
        float scale = (float) -Math.log(10000);
        float denom = (float) (half - downscaleFreqShift);
        this.freqs = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (scale * i) / denom;
            freqs[i] = (float) Math.exp(exponent);
        }
    }

    /**
     * @param timesteps one timestep per batch entry (float32 values, as torch's {@code .float()})
     * @return {@code [timesteps.length, numChannels]}
     */
    public Tensor forward(Backend backend, float[] timesteps) {
        int half = freqs.length;
        float[] out = new float[timesteps.length * numChannels];
        for (int b = 0; b < timesteps.length; b++) {
            int sinAt = b * numChannels + (flipSinToCos ? half : 0);
            int cosAt = b * numChannels + (flipSinToCos ? 0 : half);
            for (int i = 0; i < half; i++) {
                float arg = timesteps[b] * freqs[i];
                out[sinAt + i] = (float) Math.sin(arg);
                out[cosAt + i] = (float) Math.cos(arg);
            }
        }
        return backend.fromArray(out, Shape.of(timesteps.length, numChannels));
    }
}
