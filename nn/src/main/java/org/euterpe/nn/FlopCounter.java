package org.euterpe.nn;

import java.util.concurrent.atomic.LongAdder;

import org.euterpe.tensor.Tensor;

/**
 * The multiply-accumulates of every matmul, convolution and attention the models run, counted
 * from the operands' shapes (as the PyTorch reference harness counts its aten ops), for
 * benchmarks: {@link #reset} before a stage, {@link #flops} after it. One add per op; it costs
 * nothing measurable.
 */
public final class FlopCounter {
    private static final LongAdder MACS = new LongAdder();

    private FlopCounter() {
    }

    public static void reset() {
        MACS.reset();
    }

    /** FLOPs since the last reset: 2 per multiply-accumulate. */
    public static long flops() {
        return 2 * MACS.sum();
    }

    /** {@code x [..., in]} times {@code weight [out, in]}. */
    public static void linear(Tensor x, Tensor weight) {
        MACS.add(x.shape().numel() * weight.dim(0));
    }

    /** A convolution producing {@code out [batch, cout, ...]} with {@code weight [cout, cin/groups, k...]}. */
    public static void conv(Tensor out, Tensor weight) {
        MACS.add(out.shape().numel() * (weight.shape().numel() / weight.dim(0)));
    }

    /** A transposed convolution of {@code x [batch, cin, ...]} with {@code weight [cin, cout/groups, k...]}. */
    public static void convTranspose(Tensor x, Tensor weight) {
        MACS.add(x.shape().numel() * (weight.shape().numel() / weight.dim(0)));
    }

    /** Scores and weighted sum of {@code q [b, h, lq, d]}, {@code k [b, h, lk, d]}, {@code v [b, h, lk, dv]}. */
    public static void attention(Tensor q, Tensor k, Tensor v) {
        long rows = q.shape().numel() / q.dim(q.rank() - 1);
        long lk = k.dim(k.rank() - 2);
        MACS.add(q.shape().numel() * lk + rows * lk * v.dim(v.rank() - 1));
    }
}
