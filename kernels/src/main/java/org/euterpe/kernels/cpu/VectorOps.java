package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.VectorMath.S;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/**
 * Vector-API kernels for the element-wise ops, normalisations and reductions of
 * {@link VectorBackend}. Loops run over whole vectors with one masked vector for the tail, and
 * split large tensors across {@link Parallel} workers.
 *
 * <p>Statistics (means, variances, sums) add float partial sums of at most {@link #CHUNK}
 * elements into a double, so their error stays at a few ulp even over 10^5 elements.
 */
final class VectorOps {
    private static final int L = S.length();
    /** Elements per float partial sum before it is added into the double total. */
    private static final int CHUNK = 1024;
    /** Element-wise work is split into blocks of this many elements (a multiple of any vector length). */
    private static final int BLOCK = 4096;
    /** Below this many elements per worker, threading costs more than it saves. */
    private static final int GRAIN = 32768;

    private VectorOps() {
    }

    // ---------------------------------------------------------------- normalisation

    /**
     * GroupNorm, as torch.nn.GroupNorm (biased variance), optionally followed by SiLU.
     *
     * @param x     {@code [batch, channels, ...]}
     * @param gamma {@code [channels]} or null
     * @param beta  {@code [channels]} or null
     */
    static Tensor groupNorm(CpuBackendBase be, Tensor x, int groups, Tensor gamma, Tensor beta, float eps,
            boolean silu) {
        OpShapes.groupNorm(x, groups, gamma, beta);
        int channels = x.dim(1);
        HostFloats in = HostFloats.of(x);
        HostFloats g = HostFloats.ofNullable(gamma);
        HostFloats b = HostFloats.ofNullable(beta);
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        int perChannel = Math.toIntExact(x.shape().inner(1));
        int perGroup = channels / groups * perChannel;
        int tasks = x.dim(0) * groups;
        if (perGroup == 0) {
            return out;
        }
        // Groups are contiguous: group t of the flattened (batch, group) index starts at t * perGroup.
        Parallel.forRange(tasks, Math.max(1, GRAIN / perGroup), (from, to) -> {
            for (int t = from; t < to; t++) {
                int base = t * perGroup;
                double mean = sum(in.a(), in.off() + base, perGroup) / perGroup;
                float rstd = (float) (1 / Math.sqrt(variance(in.a(), in.off() + base, perGroup, mean) + eps));
                int firstChannel = (t % groups) * (channels / groups);
                for (int c = 0; c < channels / groups; c++) {
                    int ch = firstChannel + c;
                    float scale = g == null ? rstd : g.a()[g.off() + ch] * rstd;
                    float shift = b == null ? 0f : b.a()[b.off() + ch];
                    int off = base + c * perChannel;
                    normalizeRow(in.a(), in.off() + off, o, off, perChannel, mean, scale, shift, silu);
                }
            }
        });
        return out;
    }

    /** {@code y = (x - mean) * scale + shift}, then SiLU if asked, over one run of {@code n} elements. */
    private static void normalizeRow(float[] x, int xo, float[] y, int yo, int n, double mean, float scale,
            float shift, boolean silu) {
        FloatVector vs = FloatVector.broadcast(S, scale);
        FloatVector vb = FloatVector.broadcast(S, shift);
        float meanHi = (float) mean;
        float meanLo = (float) (mean - meanHi);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            centre(FloatVector.fromArray(S, x, xo + i, m), meanHi, meanLo).fma(vs, vb).intoArray(y, yo + i, m);
        }
        if (silu) { // a second pass while the run is in L1 (see VectorMath on why not fused)
            VectorMath.silu(y, yo, y, yo, n);
        }
    }

    /**
     * LayerNorm over the last dim (biased variance).
     *
     * @param x     {@code [..., d]}
     * @param gamma {@code [d]} or null
     * @param beta  {@code [d]} or null
     */
    static Tensor layerNorm(CpuBackendBase be, Tensor x, Tensor gamma, Tensor beta, float eps) {
        int d = OpShapes.layerNorm(x, gamma, beta);
        HostFloats in = HostFloats.of(x);
        HostFloats g = gamma != null ? HostFloats.of(gamma) : filled(d, 1f);
        HostFloats b = beta != null ? HostFloats.of(beta) : filled(d, 0f);
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        forRows(x, d, (from, to) -> {
            for (int r = from; r < to; r++) {
                int xo = in.off() + r * d;
                double mean = sum(in.a(), xo, d) / d;
                float rstd = (float) (1 / Math.sqrt(variance(in.a(), xo, d, mean) + eps));
                float meanHi = (float) mean;
                float meanLo = (float) (mean - meanHi);
                for (int i = 0; i < d; i += L) {
                    VectorMask<Float> m = S.indexInRange(i, d);
                    FloatVector gv = FloatVector.fromArray(S, g.a(), g.off() + i, m);
                    FloatVector bv = FloatVector.fromArray(S, b.a(), b.off() + i, m);
                    centre(FloatVector.fromArray(S, in.a(), xo + i, m), meanHi, meanLo).mul(rstd).fma(gv, bv)
                            .intoArray(o, r * d + i, m);
                }
            }
        });
        return out;
    }

    /**
     * Softmax over the last dim, max-subtracted. A row whose entries are all -inf gives NaN, as
     * torch does.
     */
    static Tensor softmax(CpuBackendBase be, Tensor x) {
        int d = OpShapes.lastDim("softmax", x);
        HostFloats in = HostFloats.of(x);
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        forRows(x, d, (from, to) -> {
            for (int r = from; r < to; r++) {
                int xo = in.off() + r * d;
                System.arraycopy(in.a(), xo, o, r * d, d);
                double sum = VectorMath.expShiftedSum(o, r * d, d, max(o, r * d, d));
                scale(o, r * d, d, (float) (1 / sum));
            }
        });
        return out;
    }

    /** {@code x / max(||x||_2, eps)} over the last dim, as torch.nn.functional.normalize. */
    static Tensor l2Normalize(CpuBackendBase be, Tensor x, float eps) {
        int d = OpShapes.lastDim("l2Normalize", x);
        HostFloats in = HostFloats.of(x);
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        forRows(x, d, (from, to) -> {
            for (int r = from; r < to; r++) {
                int xo = in.off() + r * d;
                float norm = Math.max((float) Math.sqrt(sumSquares(in.a(), xo, d)), eps);
                for (int i = 0; i < d; i += L) {
                    VectorMask<Float> m = S.indexInRange(i, d);
                    FloatVector.fromArray(S, in.a(), xo + i, m).div(norm).intoArray(o, r * d + i, m);
                }
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- element-wise

    /** {@code op(x)}; {@code param} is LEAKY_RELU's negative slope. */
    static Tensor unary(CpuBackendBase be, UnaryOp op, Tensor x, float param) {
        HostFloats in = HostFloats.of(x);
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        // Each transcendental function has its own loop (see VectorMath), called through an
        // interface so that the loops compile on their own rather than all inlined into this
        // lambda, where C2's node budget would run out and vectors would be boxed.
        ArrayFunction f = switch (op) {
            case SILU -> VectorMath::silu;
            case GELU -> VectorMath::gelu;
            case TANH -> VectorMath::tanh;
            case EXP -> VectorMath::exp;
            case SIGMOID -> VectorMath::sigmoid;
            case RELU, LEAKY_RELU, NEG, SQRT -> (a, ao, y, yo, n) -> piecewise(op, param, a, ao, y, yo, n);
        };
        forChunks(1, Math.toIntExact(x.numel()), (row, from, to) -> f.apply(in.a(), in.off() + from, o, from,
                to - from));
        return out;
    }

    /** {@code y[yo + i] = f(x[xo + i])} for {@code i < n}. */
    @FunctionalInterface
    private interface ArrayFunction {
        void apply(float[] x, int xo, float[] y, int yo, int n);
    }

    /**
     * The cheap unary ops, sharing one loop. Whole vectors load and store without masks, and the
     * tail takes one masked step: with a mask on every step, C2 in a full model run sometimes
     * fell back to the Vector API's scalar Java forms (seen in JFR profiles of the vocoder).
     */
    private static void piecewise(UnaryOp op, float param, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            piecewise(op, param, FloatVector.fromArray(S, x, xo + i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            piecewise(op, param, FloatVector.fromArray(S, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    private static FloatVector piecewise(UnaryOp op, float param, FloatVector v) {
        return switch (op) {
            case RELU -> v.max(0f);
            case LEAKY_RELU -> v.blend(v.mul(param), v.lt(0f));
            case NEG -> v.neg();
            case SQRT -> v.sqrt();
            default -> throw new IllegalStateException("not a piecewise op: " + op);
        };
    }

    /** {@code a op b} with numpy broadcasting. */
    static Tensor binary(CpuBackendBase be, BinaryOp op, Tensor a, Tensor b) {
        Broadcast plan = new Broadcast(OpShapes.broadcast(op, a, b));
        HostFloats fa = HostFloats.of(a);
        HostFloats fb = HostFloats.of(b);
        Tensor out = be.newF32Empty(plan.out());
        float[] o = CpuBackendBase.heapArray(out);
        int inner = plan.inner();
        if (out.numel() == 0) {
            return out;
        }
        forChunks(plan.rows(), inner, (row, from, to) -> binaryRun(op,
                fa.a(), fa.off() + plan.offsetA(row) + from * plan.innerStrideA(), plan.innerStrideA() == 1,
                fb.a(), fb.off() + plan.offsetB(row) + from * plan.innerStrideB(), plan.innerStrideB() == 1,
                o, row * inner + from, to - from));
        return out;
    }

    /** {@code x op s}. */
    static Tensor scalar(CpuBackendBase be, BinaryOp op, Tensor x, float s) {
        HostFloats in = HostFloats.of(x);
        Tensor out = be.newF32Empty(x.shape());
        float[] o = CpuBackendBase.heapArray(out);
        forChunks(1, Math.toIntExact(x.numel()), (row, from, to) -> scalarRun(op, in.a(), in.off() + from, s, o, from,
                to - from));
        return out;
    }

    /** {@code y[yo + i] = x[xo + i] op s} for {@code i < n}; x and y may be the same array. */
    private static void scalarRun(BinaryOp op, float[] x, int xo, float s, float[] y, int yo, int n) {
        binaryRun(op, x, xo, true, new float[] {s}, 0, false, y, yo, n);
    }

    /**
     * {@code y[i] = a[i] op b[i]} for {@code n} elements, where an operand that is not contiguous
     * ({@code aVec} false) is the single element at its offset, repeated. Whole vectors without
     * masks, then one masked tail step, as in {@link #piecewise}.
     */
    private static void binaryRun(BinaryOp op, float[] a, int ao, boolean aVec, float[] b, int bo, boolean bVec,
            float[] y, int yo, int n) {
        FloatVector aRep = FloatVector.broadcast(S, a[ao]);
        FloatVector bRep = FloatVector.broadcast(S, b[bo]);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector va = aVec ? FloatVector.fromArray(S, a, ao + i) : aRep;
            FloatVector vb = bVec ? FloatVector.fromArray(S, b, bo + i) : bRep;
            binary(op, va, vb).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector va = aVec ? FloatVector.fromArray(S, a, ao + i, m) : aRep;
            FloatVector vb = bVec ? FloatVector.fromArray(S, b, bo + i, m) : bRep;
            binary(op, va, vb).intoArray(y, yo + i, m);
        }
    }

    private static FloatVector binary(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
        };
    }

    // ---------------------------------------------------------------- reductions

    static Tensor sum(CpuBackendBase be, Tensor x, int dim, boolean keepDim) {
        return reduce(be, x, dim, keepDim, false);
    }

    static Tensor mean(CpuBackendBase be, Tensor x, int dim, boolean keepDim) {
        return reduce(be, x, dim, keepDim, true);
    }

    /** Sum or mean over {@code dim}: x viewed as {@code [outer, d, inner]} gives {@code [outer, inner]}. */
    private static Tensor reduce(CpuBackendBase be, Tensor x, int dim, boolean keepDim, boolean mean) {
        int axis = x.shape().axis(dim);
        int d = x.dim(axis);
        int outer = Math.toIntExact(x.shape().outer(axis));
        int inner = Math.toIntExact(x.shape().inner(axis));
        HostFloats in = HostFloats.of(x);
        Tensor out = be.newF32Empty(OpShapes.reduced(x.shape(), axis, keepDim));
        float[] o = CpuBackendBase.heapArray(out);
        double div = mean ? d : 1;
        if (inner == 1) {
            Parallel.forRange(outer, Math.max(1, GRAIN / Math.max(1, d)), (from, to) -> {
                for (int r = from; r < to; r++) {
                    o[r] = (float) (sum(in.a(), in.off() + r * d, d) / div);
                }
            });
            return out;
        }
        // Columns: vectorise across the inner positions, step through d; float partial sums of
        // CHUNK / L rows go into per-column doubles.
        int chunkRows = CHUNK / L;
        Parallel.forRange(outer, Math.max(1, GRAIN / Math.max(1, d * inner)), (from, to) -> {
            double[] acc = new double[inner];
            float[] part = new float[L];
            for (int r = from; r < to; r++) {
                Arrays.fill(acc, 0);
                int base = in.off() + r * d * inner;
                for (int j0 = 0; j0 < d; j0 += chunkRows) {
                    int j1 = Math.min(d, j0 + chunkRows);
                    for (int i = 0; i < inner; i += L) {
                        VectorMask<Float> m = S.indexInRange(i, inner);
                        FloatVector p = FloatVector.zero(S);
                        for (int j = j0; j < j1; j++) {
                            p = p.add(FloatVector.fromArray(S, in.a(), base + j * inner + i, m));
                        }
                        p.intoArray(part, 0);
                        for (int k = 0; k < L && i + k < inner; k++) {
                            acc[i + k] += part[k];
                        }
                    }
                }
                for (int i = 0; i < inner; i++) {
                    o[r * inner + i] = (float) (acc[i] / div);
                }
            }
        });
        return out;
    }


    // ---------------------------------------------------------------- row helpers

    /**
     * Sum of {@code a[off .. off+n)}, accurate to a few ulp of the spread of the values even
     * when they share a large common part: deviations from the first element are summed.
     */
    private static double sum(float[] a, int off, int n) {
        float pivot = n > 0 && Float.isFinite(a[off]) ? a[off] : 0f;
        return (double) pivot * n + sumDeviations(a, off, n, pivot, false);
    }

    /** Biased variance of {@code a[off .. off+n)} around its mean {@code mean}. */
    private static double variance(float[] a, int off, int n, double mean) {
        // Deviations are taken from the float nearest the mean; the remainder of the mean
        // corrects the result by its square.
        float centre = (float) mean;
        return sumDeviations(a, off, n, centre, true) / n - (mean - centre) * (mean - centre);
    }

    /** Sum of squares of {@code a[off .. off+n)}. */
    private static double sumSquares(float[] a, int off, int n) {
        return sumDeviations(a, off, n, 0f, true);
    }

    /**
     * Sum of {@code a[i] - centre}, or of its square, over {@code a[off .. off+n)}: float
     * partial sums of at most {@link #CHUNK} elements, added into a double.
     */
    private static double sumDeviations(float[] a, int off, int n, float centre, boolean squared) {
        double total = 0;
        for (int c = 0; c < n; c += CHUNK) {
            int end = Math.min(n, c + CHUNK);
            FloatVector acc = FloatVector.zero(S);
            for (int i = c; i < end; i += L) {
                VectorMask<Float> m = S.indexInRange(i, end);
                // Masked-off lanes load as 0 and must stay 0, not become -centre.
                FloatVector dev = FloatVector.fromArray(S, a, off + i, m).sub(centre, m);
                acc = squared ? dev.fma(dev, acc) : acc.add(dev);
            }
            total += VectorMath.laneSum(acc);
        }
        return total;
    }

    /**
     * {@code x - mean} with the mean given as float {@code hi + lo}: x - hi is exact for x near
     * the mean, so the result keeps its relative accuracy even when |mean| >> spread.
     */
    private static FloatVector centre(FloatVector x, float hi, float lo) {
        return x.sub(hi).sub(lo);
    }

    /** Largest of {@code a[off .. off+n)} (-inf when n is 0). */
    private static float max(float[] a, int off, int n) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            acc = acc.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, a, off + i, m), m);
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }

    /** {@code a[off .. off+n) *= s}. */
    static void scale(float[] a, int off, int n, float s) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, a, off + i, m).mul(s).intoArray(a, off + i, m);
        }
    }

    // ---------------------------------------------------------------- plumbing

    /** Work on a range of elements {@code [from, to)} of one row. */
    @FunctionalInterface
    private interface RowChunk {
        void run(int row, int from, int to);
    }

    /** Runs {@code body} over {@code rows} rows of {@code inner} elements, split into blocks across workers. */
    private static void forChunks(int rows, int inner, RowChunk body) {
        int perRow = Math.max(1, (inner + BLOCK - 1) / BLOCK);
        int blockLen = Math.min(inner, BLOCK);
        Parallel.forRange(rows * perRow, Math.max(1, GRAIN / Math.max(1, blockLen)), (from, to) -> {
            for (int t = from; t < to; t++) {
                int row = t / perRow;
                int start = (t % perRow) * BLOCK;
                body.run(row, start, Math.min(inner, start + BLOCK));
            }
        });
    }

    /** Runs {@code body} over the rows of {@code x} viewed as {@code [rows, d]}. */
    private static void forRows(Tensor x, int d, Parallel.Range body) {
        int rows = d == 0 ? 0 : Math.toIntExact(x.numel() / d);
        Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, d)), body);
    }

    private static HostFloats filled(int n, float value) {
        float[] a = new float[n];
        Arrays.fill(a, value);
        return new HostFloats(a, 0);
    }
}
