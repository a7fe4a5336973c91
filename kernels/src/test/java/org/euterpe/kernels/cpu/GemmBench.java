package org.euterpe.kernels.cpu;

import java.util.Random;

import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * A quick timing harness for tuning the GEMM and convolution kernels (not a test; the JMH
 * benchmarks live in bench/). Run: {@code java --add-modules jdk.incubator.vector -cp ...
 * org.euterpe.kernels.cpu.GemmBench [threads]}.
 */
public final class GemmBench {
    private GemmBench() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Parallel.threads();
        Parallel.setThreads(threads);
        String which = args.length > 1 ? args[1] : "all";
        VectorBackend be = new VectorBackend();
        System.out.println(be.description());
        if (which.equals("all") || which.equals("gemm")) {
            gemm(be, 2048, 2048, 2048);
            gemm(be, 4096, 1280, 320);
            gemm(be, 4096, 320, 1280);
        }
        if (which.equals("all") || which.equals("conv")) {
            conv2d(be, new int[] {2, 320, 64, 16}, 320, 3);
            conv1d(be, 32, 32, 160000, 7, 1);
            convT(be, 512, 256, 625, 16, 8);
        }
    }

    private static Tensor rand(VectorBackend be, Random r, int... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[(int) s.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() - 0.5f;
        }
        return be.fromArray(v, s);
    }

    private static void gemm(VectorBackend be, int m, int n, int k) {
        Random r = new Random(1);
        Tensor a = rand(be, r, m, k);
        Tensor b = rand(be, r, k, n);
        time("matmul " + m + "x" + n + "x" + k, 2.0 * m * n * k, () -> be.matmul(a, b, false, false, 1f, null, 0f, null));
    }

    private static void conv2d(VectorBackend be, int[] x, int out, int kk) {
        Random r = new Random(1);
        Tensor xt = rand(be, r, x);
        Tensor w = rand(be, r, out, x[1], kk, kk);
        double flops = 2.0 * x[0] * out * x[1] * kk * kk * x[2] * x[3];
        time("conv2d " + Shape.of(x) + " x " + w.shape(), flops, () -> be.conv2d(xt, w, null, 1, kk / 2, 1));
    }

    private static void conv1d(VectorBackend be, int cin, int cout, int len, int kk, int dil) {
        Random r = new Random(1);
        Tensor xt = rand(be, r, 1, cin, len);
        Tensor w = rand(be, r, cout, cin, kk);
        double flops = 2.0 * cout * cin * kk * len;
        time("conv1d " + xt.shape() + " x " + w.shape(), flops, () -> be.conv1d(xt, w, null, 1, dil * (kk - 1) / 2, dil));
    }

    private static void convT(VectorBackend be, int cin, int cout, int len, int kk, int stride) {
        Random r = new Random(1);
        Tensor xt = rand(be, r, 1, cin, len);
        Tensor w = rand(be, r, cin, cout, kk);
        double flops = 2.0 * cout * cin * kk * len;
        time("convT1d " + xt.shape() + " x " + w.shape() + " s" + stride, flops,
                () -> be.convTranspose1d(xt, w, null, stride, (kk - stride) / 2, 0, 1));
    }

    private static void time(String name, double flops, Runnable op) {
        double best = Double.MAX_VALUE;
        long end = System.nanoTime() + 6_000_000_000L;
        int reps = 0;
        while (reps < 3 || System.nanoTime() < end && reps < 30) {
            long t0 = System.nanoTime();
            op.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            reps++;
        }
        System.out.printf("%-50s best %8.2f ms  %7.1f GFLOP/s%n", name, best * 1e3, flops / best / 1e9);
    }
}
