package org.euterpe.nn.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.nio.file.Path;

import org.euterpe.kernels.Backends;
import org.euterpe.nn.Weights;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.euterpe.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downsample2D's two paddings against hand-summed windows: a 3x3 all-ones kernel over a 4x4
 * input of 0..15 sums each stride-2 window. Padding 1 pads all around; padding 0 (the VAE
 * encoder) pads one row and column at the end only, which shifts every window by one.
 */
class Downsample2DTest {
    @TempDir
    Path tmp;

    private Tensor run(Backend backend, int padding) throws IOException {
        Path file = tmp.resolve("d" + padding + ".safetensors");
        float[] ones = new float[9];
        java.util.Arrays.fill(ones, 1f);
        new SafetensorsWriter().add("conv.weight", Shape.of(1, 1, 3, 3), ones)
                .add("conv.bias", Shape.of(1), new float[] {0.5f}).write(file);
        float[] x = new float[16];
        for (int i = 0; i < 16; i++) {
            x[i] = i;
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Weights w = Weights.of(backend, f, "", "test");
            Tensor out = Downsample2D.load(w, 1, 1, padding).forward(backend.fromArray(x, Shape.of(1, 1, 4, 4)));
            return backend.fromArray(out.toFloatArray(), out.shape());
        }
    }

    @Test
    void symmetricAndEndOnlyPadding() throws IOException {
        Backend b = Backends.scalar();
        // padding 1: windows centred on (0,0), (0,2), (2,0), (2,2)
        Tensor p1 = run(b, 1);
        assertArrayEquals(new int[] {1, 1, 2, 2}, p1.shape().dims());
        assertArrayEquals(new float[] {0 + 1 + 4 + 5 + 0.5f, 1 + 2 + 3 + 5 + 6 + 7 + 0.5f,
                4 + 5 + 8 + 9 + 12 + 13 + 0.5f, 5 + 6 + 7 + 9 + 10 + 11 + 13 + 14 + 15 + 0.5f}, p1.toFloatArray());
        // padding 0 with end padding: windows starting at (0,0), (0,2), (2,0), (2,2)
        Tensor p0 = run(b, 0);
        assertArrayEquals(new int[] {1, 1, 2, 2}, p0.shape().dims());
        assertArrayEquals(new float[] {0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10 + 0.5f, 2 + 3 + 6 + 7 + 10 + 11 + 0.5f,
                8 + 9 + 10 + 12 + 13 + 14 + 0.5f, 10 + 11 + 14 + 15 + 0.5f}, p0.toFloatArray());
    }
}
