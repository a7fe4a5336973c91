package org.euterpe.bench;

import java.util.concurrent.TimeUnit;

import org.euterpe.kernels.Backends;
import org.euterpe.kernels.cpu.Parallel;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of the CPU kernels at the shapes the models run. Each benchmark's case string
 * encodes its shape; {@link KernelReport} turns the times into GFLOP/s with {@link #gflop}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g"})
public class KernelBench {

    /** GEMM C[M,N] = A[M,K] B[K,N]: "MxNxK". */
    @State(Scope.Benchmark)
    public static class GemmState {
        @Param({"1024x1024x1024", "2048x2048x2048", "4096x1280x320", "4096x320x1280", "8000x320x320"})
        public String mnk;
        @Param({"2"})
        public int threads;
        Tensor a;
        Tensor b;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            int[] d = dims(mnk);
            Backend be = Backends.cpu();
            a = be.randn(Shape.of(d[0], d[2]), 1);
            b = be.randn(Shape.of(d[2], d[1]), 2);
        }
    }

    @Benchmark
    public Tensor gemm(GemmState s) {
        return s.a.matmul(s.b);
    }

    /** conv2d 3x3 pad 1: "N,C,H,W,O". */
    @State(Scope.Benchmark)
    public static class Conv2dState {
        @Param({"2,128,250,16,128", "2,320,250,16,320", "2,640,32,2,640", "1,128,512,32,128", "1,512,250,16,512"})
        public String shape;
        @Param({"2"})
        public int threads;
        Tensor x;
        Tensor w;
        Tensor bias;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            int[] d = dims(shape);
            Backend be = Backends.cpu();
            x = be.randn(Shape.of(d[0], d[1], d[2], d[3]), 1);
            w = be.randn(Shape.of(d[4], d[1], 3, 3), 2).mul(0.05f);
            bias = be.randn(Shape.of(d[4]), 3);
        }
    }

    @Benchmark
    public Tensor conv2d3x3(Conv2dState s) {
        return s.x.conv2d(s.w, s.bias, 1, 1);
    }

    /** Vocoder conv1d: "C,L,K,dilation" (C in = C out). */
    @State(Scope.Benchmark)
    public static class Conv1dState {
        @Param({"512,1000,7,1", "256,8000,3,3", "128,32000,11,5", "32,160000,3,1"})
        public String shape;
        @Param({"2"})
        public int threads;
        Tensor x;
        Tensor w;
        Tensor bias;
        int k;
        int dil;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            int[] d = dims(shape);
            Backend be = Backends.cpu();
            k = d[2];
            dil = d[3];
            x = be.randn(Shape.of(1, d[0], d[1]), 1);
            w = be.randn(Shape.of(d[0], d[0], k), 2).mul(0.05f);
            bias = be.randn(Shape.of(d[0]), 3);
        }
    }

    @Benchmark
    public Tensor conv1d(Conv1dState s) {
        return s.x.conv1d(s.w, s.bias, 1, (s.k * s.dil - s.dil) / 2, s.dil);
    }

    /** Self-attention: "B,H,L,D". */
    @State(Scope.Benchmark)
    public static class AttentionState {
        @Param({"2,8,4000,40", "2,8,1000,80", "1,1,4000,512"})
        public String shape;
        @Param({"2"})
        public int threads;
        Tensor q;
        Tensor k;
        Tensor v;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            int[] d = dims(shape);
            Backend be = Backends.cpu();
            Shape sh = Shape.of(d[0], d[1], d[2], d[3]);
            q = be.randn(sh, 1);
            k = be.randn(sh, 2);
            v = be.randn(sh, 3);
        }
    }

    @Benchmark
    public Tensor attention(AttentionState s) {
        return s.q.backend().attention(s.q, s.k, s.v, null, (float) (1 / Math.sqrt(s.q.dim(3))));
    }

    /** GroupNorm(32) + SiLU: "N,C,H,W". */
    @State(Scope.Benchmark)
    public static class GroupNormState {
        @Param({"2,320,250,16", "1,128,1024,64"})
        public String shape;
        @Param({"2"})
        public int threads;
        Tensor x;
        Tensor gamma;
        Tensor beta;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            int[] d = dims(shape);
            Backend be = Backends.cpu();
            x = be.randn(Shape.of(d), 1);
            gamma = be.randn(Shape.of(d[1]), 2);
            beta = be.randn(Shape.of(d[1]), 3);
        }
    }

    @Benchmark
    public Tensor groupNormSilu(GroupNormState s) {
        return s.x.groupNormSilu(32, s.gamma, s.beta, 1e-5f);
    }

    static int[] dims(String s) {
        String[] parts = s.split("[x,]");
        int[] d = new int[parts.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = Integer.parseInt(parts[i].trim());
        }
        return d;
    }

    /** Floating-point operations of one call of {@code benchmark} with parameter {@code p}. */
    static double gflop(String benchmark, String p) {
        int[] d = dims(p);
        return switch (benchmark) {
            case "gemm" -> 2.0 * d[0] * d[1] * d[2] / 1e9;
            case "conv2d3x3" -> 2.0 * d[0] * d[4] * d[2] * d[3] * d[1] * 9 / 1e9;
            case "conv1d" -> 2.0 * d[0] * d[0] * d[1] * d[2] / 1e9;
            case "attention" -> 4.0 * d[0] * d[1] * d[2] * (double) d[2] * d[3] / 1e9;
            case "groupNormSilu" -> 10.0 * d[0] * d[1] * d[2] * d[3] / 1e9;
            default -> Double.NaN;
        };
    }
}
