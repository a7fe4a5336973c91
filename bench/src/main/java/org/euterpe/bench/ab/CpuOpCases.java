package org.euterpe.bench.ab;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

import org.euterpe.kernels.Backends;
import org.euterpe.kernels.cpu.Parallel;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * The CPU backend's ops at the full-size AudioLDM-S U-Net's shapes (CFG batch 2; weights in mapped
 * memory, as a converted model's are), timed as per-thread CPU time of the calling thread, for
 * {@link AbCompare}: one {@link #pass} times each case once (best of its repetitions). With one
 * thread every op runs on the calling thread, so the CPU time is exact even on a loaded machine.
 */
public final class CpuOpCases {
    private static List<Case> cases;

    private CpuOpCases() {
    }

    private record Case(String name, Supplier<Tensor> op) {
    }

    /**
     * @param args threads, a substring the case names must contain ("" for all), seconds per case
     * @return best milliseconds per case, in order
     */
    public static Map<String, Double> pass(String[] args) {
        Parallel.setThreads(Integer.parseInt(args[0]));
        String filter = args.length > 1 ? args[1] : "";
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 0.3;
        if (cases == null) {
            cases = build();
        }
        ThreadMXBean tb = ManagementFactory.getThreadMXBean();
        Map<String, Double> res = new LinkedHashMap<>();
        for (Case c : cases) {
            if (!c.name.contains(filter)) {
                continue;
            }
            c.op.get().close();
            double best = Double.MAX_VALUE;
            long end = System.nanoTime() + (long) (seconds * 1e9);
            for (int reps = 0; reps < 3 || System.nanoTime() < end; reps++) {
                long t0 = tb.getCurrentThreadCpuTime();
                Tensor t = c.op.get();
                best = Math.min(best, (tb.getCurrentThreadCpuTime() - t0) / 1e6);
                t.close();
            }
            res.put(c.name, best);
        }
        return res;
    }

    private static List<Case> build() {
        Backend be = Backends.cpu();
        Arena arena = Arena.ofShared();
        Random r = new Random(1);
        List<Case> c = new ArrayList<>();
        for (int[] mnk : new int[][] {{2048, 2048, 2048}, {4096, 1280, 320}, {4096, 320, 1280}, {8000, 320, 320}}) {
            Tensor a = rand(be, arena, r, false, mnk[0], mnk[2]);
            Tensor b = rand(be, arena, r, false, mnk[2], mnk[1]);
            c.add(new Case("gemm " + mnk[0] + "x" + mnk[1] + "x" + mnk[2], () -> a.matmul(b)));
        }
        // The transformer's linears at each level: rows = 2 x tokens, q/k/v/out, GEGLU in, FF out.
        for (int[] lv : new int[][] {{2048, 256}, {512, 384}, {128, 640}}) {
            int rows = lv[0];
            int ch = lv[1];
            Tensor x = rand(be, arena, r, false, rows, ch);
            Tensor xf = rand(be, arena, r, false, rows, 4 * ch);
            Tensor wq = rand(be, arena, r, true, ch, ch);
            Tensor bq = rand(be, arena, r, true, ch);
            Tensor wg = rand(be, arena, r, true, 8 * ch, ch);
            Tensor bg = rand(be, arena, r, true, 8 * ch);
            Tensor wo = rand(be, arena, r, true, ch, 4 * ch);
            Tensor bo = rand(be, arena, r, true, ch);
            c.add(new Case("linear " + rows + "x" + ch + "->" + ch, () -> be.linear(x, wq, bq)));
            c.add(new Case("linear " + rows + "x" + ch + "->" + 8 * ch, () -> be.linear(x, wg, bg)));
            c.add(new Case("linear " + rows + "x" + 4 * ch + "->" + ch, () -> be.linear(xf, wo, bo)));
        }
        // Convolutions [2, cin, h, w] -> cout, kernel k, stride 1, "same" padding.
        for (int[] cv : new int[][] {{128, 128, 256, 16, 3}, {256, 256, 128, 8, 3}, {384, 384, 64, 4, 3},
            {640, 640, 32, 2, 3}, {1280, 640, 32, 2, 3}, {256, 384, 64, 4, 3}, {1280, 640, 32, 2, 1},
            {768, 384, 64, 4, 1}, {256, 256, 128, 8, 1}}) {
            Tensor x = rand(be, arena, r, false, 2, cv[0], cv[2], cv[3]);
            Tensor w = rand(be, arena, r, true, cv[1], cv[0], cv[4], cv[4]);
            Tensor b = rand(be, arena, r, true, cv[1]);
            c.add(new Case("conv" + cv[4] + "x" + cv[4] + " 2x" + cv[0] + "x" + cv[2] + "x" + cv[3] + "->" + cv[1],
                    () -> be.conv2d(x, w, b, 1, cv[4] / 2, 1)));
        }
        // The VAE decoder's 3x3 convolutions (batch 1, 512 and 256 channels) on smaller images than
        // a 10 s clip's, so that a case stays near 0.1 s: Winograd's chunking must suit these too.
        for (int[] cv : new int[][] {{512, 512, 128, 16}, {256, 256, 256, 32}}) {
            Tensor x = rand(be, arena, r, false, 1, cv[0], cv[2], cv[3]);
            Tensor w = rand(be, arena, r, true, cv[1], cv[0], 3, 3);
            Tensor b = rand(be, arena, r, true, cv[1]);
            c.add(new Case("vae conv3x3 1x" + cv[0] + "x" + cv[2] + "x" + cv[3] + "->" + cv[1],
                    () -> be.conv2d(x, w, b, 1, 1, 1)));
        }
        // Self-attention [2, 8 heads, tokens, head dim] at the three transformer levels.
        for (int[] at : new int[][] {{1024, 32}, {256, 48}, {64, 80}}) {
            Tensor q = rand(be, arena, r, false, 2, 8, at[0], at[1]);
            Tensor k = rand(be, arena, r, false, 2, 8, at[0], at[1]);
            Tensor v = rand(be, arena, r, false, 2, 8, at[0], at[1]);
            c.add(new Case("attention 2x8x" + at[0] + "x" + at[1],
                    () -> be.attention(q, k, v, null, (float) (1 / Math.sqrt(at[1])))));
        }
        return c;
    }

    private static Tensor rand(Backend be, Arena arena, Random r, boolean mapped, int... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[Math.toIntExact(s.numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (r.nextFloat() - 0.5f) * 0.2f;
        }
        if (!mapped) {
            return be.fromArray(v, s);
        }
        MemorySegment seg = arena.allocate(4L * v.length, 64);
        MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v.length);
        return be.fromHost(seg, DType.F32, s, null);
    }
}
