package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.ConvolutionTest.conv2dRef;
import static org.euterpe.kernels.cpu.KernelTestSupport.BE;
import static org.euterpe.kernels.cpu.KernelTestSupport.assertClose;
import static org.euterpe.kernels.cpu.KernelTestSupport.f32;
import static org.euterpe.kernels.cpu.KernelTestSupport.weight;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** {@link Winograd} against direct double-precision convolution loops. */
class WinogradTest {
    private static final double TOL = 1e-5;

    /** Runs {@link Winograd#conv} directly (whatever {@link Winograd#applies} says) and checks it. */
    private static void check(Random r, int n, int c, int h, int w, int o, int pad, DType wType, boolean withBias,
            long chunkFloats) {
        Tensor x = f32(r, n, c, h, w);
        Tensor wt = weight(r, wType, o, c, 3, 3);
        Tensor bias = withBias ? f32(r, o) : null;
        OpShapes.Conv cv = OpShapes.conv2d(x, wt, bias, 1, pad, 1);
        float[] out = new float[n * o * cv.oh() * cv.ow()];
        java.util.Arrays.fill(out, Float.NaN); // every element must be written
        Winograd.conv(x.toFloatArray(), 0, FloatSource.of(wt), withBias ? bias.toFloatArray() : null, cv, out,
                chunkFloats);
        double[] ref = conv2dRef(x.toFloatArray(), wt.toFloatArray(), withBias ? bias.toFloatArray() : null, n, c, h, w,
                o, 3, 3, new int[] {1, 1}, new int[] {pad, pad}, new int[] {1, 1}, cv.oh(), cv.ow());
        assertClose(ref, BE.fromArray(out, org.euterpe.tensor.Shape.of(n, o, cv.oh(), cv.ow())), TOL,
                String.format("winograd x[%d,%d,%d,%d] w[%d,%d,3,3] p%d %s chunk %d", n, c, h, w, o, c, pad, wType,
                        chunkFloats));
    }

    @Test
    void geometries() {
        Random r = new Random(61);
        int[][] cases = { // n, c, h, w, o, pad: even and odd outputs, no/wide padding, 1-wide images
            {1, 3, 8, 8, 5, 1}, {2, 4, 9, 7, 6, 1}, {1, 5, 10, 13, 3, 0}, {1, 2, 7, 6, 4, 2}, {1, 3, 1, 1, 2, 1},
            {2, 1, 3, 3, 1, 0}, {1, 6, 5, 1, 7, 1}, {1, 2, 1, 9, 3, 1}, {1, 70, 6, 11, 9, 1}, {1, 4, 4, 4, 3, 3}
        };
        for (int[] t : cases) {
            check(r, t[0], t[1], t[2], t[3], t[4], t[5], DType.F32, t[0] == 1, 1 << 21);
        }
    }

    @Test
    void manyChunks() {
        // Chunks of one or a few tile rows, the last one partial; several batch entries.
        Random r = new Random(62);
        check(r, 2, 6, 11, 9, 5, 1, DType.F32, true, 1);
        check(r, 1, 5, 15, 10, 4, 1, DType.F32, false, 16 * 5 * 5 * 3);
    }

    @Test
    void lowPrecisionFilters() {
        Random r = new Random(63);
        for (DType t : new DType[] {DType.F16, DType.BF16, DType.I8}) {
            check(r, 1, 7, 9, 8, 6, 1, t, true, 1 << 21);
        }
    }

    @Test
    void largeConvolutionsGoThroughIt() {
        // Deep enough for several KC slices and wide enough for several GEMM panels, via the backend.
        Random r = new Random(64);
        int n = 1, c = 150, h = 34, w = 30, o = 20;
        Tensor x = f32(r, n, c, h, w);
        Tensor wt = f32(r, o, c, 3, 3);
        Tensor bias = f32(r, o);
        assertTrue(Winograd.applies(OpShapes.conv2d(x, wt, bias, 1, 1, 1)));
        double[] ref = conv2dRef(x.toFloatArray(), wt.toFloatArray(), bias.toFloatArray(), n, c, h, w, o, 3, 3,
                new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, h, w);
        assertClose(ref, BE.conv2d(x, wt, bias, 1, 1, 1), TOL, "conv2d via winograd");
    }

    @Test
    void otherConvolutionsDoNot() {
        Random r = new Random(65);
        Tensor x = f32(r, 1, 4, 40, 40);
        assertFalse(Winograd.applies(OpShapes.conv2d(x, f32(r, 4, 4, 3, 3), null, 2, 1, 1)), "stride 2");
        assertFalse(Winograd.applies(OpShapes.conv2d(x, f32(r, 4, 4, 3, 3), null, 1, 2, 2)), "dilation 2");
        assertFalse(Winograd.applies(OpShapes.conv2d(x, f32(r, 4, 4, 5, 5), null, 1, 2, 1)), "5x5");
        assertFalse(Winograd.applies(OpShapes.conv2d(f32(r, 1, 4, 8, 2), f32(r, 4, 4, 3, 3), null, 1, 1, 1)),
                "few output blocks");
    }
}
