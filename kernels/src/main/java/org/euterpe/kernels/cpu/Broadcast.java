package org.euterpe.kernels.cpu;

import java.util.Arrays;

import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Shape;

/**
 * Numpy broadcasting of two shapes, reduced to the fewest dims. The output is a sequence of
 * {@link #rows()} rows of {@link #inner()} elements; within a row each operand is either
 * contiguous or one repeated element ({@link #innerStrideA()} 1 or 0), and {@link #offsetA} /
 * {@link #offsetB} give where each row starts in the operands. E.g. {@code [N, C, H, W] + [C, 1, 1]}
 * becomes {@code N*C} rows of {@code H*W}, b repeated within each row.
 */
final class Broadcast {
    private final Shape out;
    private final int inner;
    private final int innerStrideA;
    private final int innerStrideB;
    private final int[] outerDims;
    private final int[] outerStrideA;
    private final int[] outerStrideB;

    /** The plan for the broadcast {@code bc} (checked and derived by {@link OpShapes#broadcast}). */
    Broadcast(OpShapes.Broadcast bc) {
        out = bc.out();
        int rank = out.rank();
        int[] dout = out.dims();
        // Merged dims, outermost first: size, stride in a, stride in b (0 where broadcast).
        int[] size = new int[rank];
        int[] strideA = new int[rank];
        int[] strideB = new int[rank];
        int m = 0;
        for (int i = 0; i < rank; i++) {
            if (dout[i] == 1) {
                continue;
            }
            int ai = Math.toIntExact(bc.stridesA()[i]);
            int bi = Math.toIntExact(bc.stridesB()[i]);
            // A dim folds into the one before it when both operands step through them as one.
            if (m > 0 && strideA[m - 1] == (long) ai * dout[i] && strideB[m - 1] == (long) bi * dout[i]) {
                size[m - 1] *= dout[i];
                strideA[m - 1] = ai;
                strideB[m - 1] = bi;
            } else {
                size[m] = dout[i];
                strideA[m] = ai;
                strideB[m] = bi;
                m++;
            }
        }
        if (m == 0) { // every dim is 1: one element
            inner = 1;
            innerStrideA = 0;
            innerStrideB = 0;
            outerDims = new int[0];
            outerStrideA = new int[0];
            outerStrideB = new int[0];
        } else {
            inner = size[m - 1];
            innerStrideA = strideA[m - 1];
            innerStrideB = strideB[m - 1];
            outerDims = Arrays.copyOf(size, m - 1);
            outerStrideA = Arrays.copyOf(strideA, m - 1);
            outerStrideB = Arrays.copyOf(strideB, m - 1);
        }
    }

    /** The broadcast shape. */
    Shape out() {
        return out;
    }

    int inner() {
        return inner;
    }

    int rows() {
        return Math.toIntExact(out.numel() / Math.max(1, inner));
    }

    /** 1 when a is contiguous along a row, 0 when one element of a repeats. */
    int innerStrideA() {
        return innerStrideA;
    }

    int innerStrideB() {
        return innerStrideB;
    }

    /** Element offset in a of the start of output row {@code row}. */
    int offsetA(int row) {
        return offset(row, outerStrideA);
    }

    int offsetB(int row) {
        return offset(row, outerStrideB);
    }

    private int offset(int row, int[] strides) {
        int off = 0;
        for (int i = outerDims.length - 1; i >= 0; i--) {
            off += (row % outerDims[i]) * strides[i];
            row /= outerDims[i];
        }
        return off;
    }
}
