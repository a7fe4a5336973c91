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
        if (which.startsWith("mnk=")) {
            String[] d = which.substring(4).split("x");
            gemm(be, Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2]));
        }
        if (which.equals("kernel")) {
            kernel();
        }
        if (which.equals("all") || which.equals("conv")) {
            conv2d(be, new int[] {2, 320, 64, 16}, 320, 3);
            conv2d(be, new int[] {2, 640, 32, 2}, 640, 3);
            conv2d(be, new int[] {1, 128, 1024, 64}, 128, 3);
            conv1d(be, 512, 512, 5000, 11, 5);
            conv1d(be, 32, 32, 160000, 7, 1);
            convT(be, 512, 256, 625, 16, 8);
        }
    }

    /** The micro-kernel alone on L1-resident panels: its ceiling, without packing or cache misses. */
    private static void kernel() {
        int kc = GemmDriver.KC;
        float[] a = new float[kc * GemmKernel.MR];
        float[] b = new float[kc * GemmKernel.NR];
        float[] acc = new float[GemmKernel.MR * GemmKernel.NR];
        float[] c = new float[GemmKernel.MR * GemmKernel.NR];
        java.util.Arrays.fill(a, 1e-3f);
        java.util.Arrays.fill(b, 1e-3f);
        int calls = 20000;
        time("micro-kernel kc=" + kc, 2.0 * calls * kc * GemmKernel.MR * GemmKernel.NR, () -> {
            for (int i = 0; i < calls; i++) {
                GemmKernel.tile(kc, a, 0, b, 0, c, 0, GemmKernel.NR, GemmKernel.MR, GemmKernel.NR, acc);
            }
        });
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

    /**
     * Best wall time, and best process CPU time divided by the thread count: on a machine shared
     * with other jobs the latter estimates the wall time the op would take on dedicated cores.
     */
    private static void time(String name, double flops, Runnable op) {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        double best = Double.MAX_VALUE;
        double bestCpu = Double.MAX_VALUE;
        long end = System.nanoTime() + 8_000_000_000L;
        int reps = 0;
        while (reps < 3 || System.nanoTime() < end && reps < 40) {
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            op.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            bestCpu = Math.min(bestCpu, (os.getProcessCpuTime() - c0) / 1e9 / Parallel.threads());
            reps++;
        }
        System.out.printf("%-50s wall %8.2f ms %7.1f GFLOP/s | cpu/thread %8.2f ms %7.1f GFLOP/s%n", name, best * 1e3,
                flops / best / 1e9, bestCpu * 1e3, flops / bestCpu / 1e9);
    }
}
