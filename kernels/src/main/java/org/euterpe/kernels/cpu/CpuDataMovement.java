package org.euterpe.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * The data-movement ops of both CPU backends: pure copies, so one implementation serves the
 * scalar reference and the Vector-API backend. They work on raw bytes and so on every dtype
 * except I8 (whose per-row scales would not follow the rows around); contiguous runs are moved
 * with one {@link MemorySegment#copy} each.
 */
final class CpuDataMovement {
    /** Elements per parallel task below which splitting a copy costs more than it saves. */
    private static final int ROW_GRAIN = 1 << 16;
    /** Side of the square tiles {@link #transposePlanes} moves: 16 floats, one cache line. */
    private static final int TILE = 16;

    private CpuDataMovement() {
    }

    /** Concatenation along {@code dim}: the other dims and the dtypes must agree. */
    static Tensor concat(CpuBackendBase be, List<Tensor> parts, int dim) {
        OpShapes.Concat cc = OpShapes.concat(parts, dim);
        int d = cc.dim();
        int total = cc.out().dim(d);
        Tensor first = parts.getFirst();
        Tensor out = be.empty(first.dtype(), cc.out());
        MemorySegment dst = CpuBackendBase.segment(out);
        long esz = first.dtype().byteSize();
        long outer = first.shape().outer(d);
        long inner = first.shape().inner(d);
        long outRow = total * inner * esz;
        long at = 0; // byte position of the current part inside one output row
        for (Tensor p : parts) {
            MemorySegment src = CpuBackendBase.segment(p);
            long run = p.dim(d) * inner * esz;
            for (long o = 0; o < outer; o++) {
                MemorySegment.copy(src, o * run, dst, o * outRow + at, run);
            }
            at += run;
        }
        return out;
    }

    /** Elements {@code [start, end)} along {@code dim}, copied. */
    static Tensor slice(CpuBackendBase be, Tensor x, int dim, int start, int end) {
        int d = OpShapes.slice(x, dim, start, end);
        Tensor out = be.empty(x.dtype(), x.shape().with(d, end - start));
        long esz = x.dtype().byteSize();
        long inner = x.shape().inner(d) * esz;
        long run = (end - start) * inner;
        MemorySegment src = CpuBackendBase.segment(x);
        MemorySegment dst = CpuBackendBase.segment(out);
        long outer = x.shape().outer(d);
        for (long o = 0; o < outer; o++) {
            MemorySegment.copy(src, o * x.dim(d) * inner + start * inner, dst, o * run, run);
        }
        return out;
    }

    /** Output dim i is input dim {@code perm[i]}. */
    static Tensor permute(CpuBackendBase be, Tensor x, int[] perm) {
        OpShapes.Permute pm = OpShapes.permute(x, perm);
        int[] outDims = pm.out().dims();
        Tensor out = be.empty(x.dtype(), pm.out());
        if (x.rank() == 0 || out.numel() == 0) {
            MemorySegment.copy(CpuBackendBase.segment(x), 0, CpuBackendBase.segment(out), 0, x.byteSize());
            return out;
        }
        gather(x, out, outDims, pm.srcStrides());
        return out;
    }

    /**
     * Nearest-neighbour resize of the last two dims. The source index is computed as torch does,
     * in float: {@code min(floor(dst * (float) in / out), in - 1)}.
     */
    static Tensor upsampleNearest(CpuBackendBase be, Tensor x, int outH, int outW) {
        Shape outShape = OpShapes.upsampleNearest(x, outH, outW);
        int[] srcRow = nearestIndex(x.dim(2), outH);
        int[] srcCol = nearestIndex(x.dim(3), outW);
        int inH = x.dim(2);
        int inW = x.dim(3);
        int planes = x.dim(0) * x.dim(1);
        Tensor out = be.empty(x.dtype(), outShape);
        MemorySegment src = CpuBackendBase.segment(x);
        MemorySegment dst = CpuBackendBase.segment(out);
        long esz = x.dtype().byteSize();
        long outRowBytes = outW * esz;
        for (int p = 0; p < planes; p++) {
            for (int y = 0; y < outH; y++) {
                long dRow = ((long) p * outH + y) * outRowBytes;
                if (y > 0 && srcRow[y] == srcRow[y - 1]) {
                    // Same source row as the previous output row: copy that finished row.
                    MemorySegment.copy(dst, dRow - outRowBytes, dst, dRow, outRowBytes);
                    continue;
                }
                long sRow = ((long) p * inH + srcRow[y]) * inW * esz;
                for (int c = 0; c < outW; c++) {
                    copyElement(src, sRow + srcCol[c] * esz, dst, dRow + c * esz, (int) esz);
                }
            }
        }
        return out;
    }

    private static int[] nearestIndex(int in, int out) {
        float scale = (float) in / out;
        int[] idx = new int[out];
        for (int i = 0; i < out; i++) {
            idx[i] = Math.min((int) Math.floor(i * scale), in - 1);
        }
        return idx;
    }

    /**
     * Constant padding, {@code pads} in torch's order (last dim first, before then after);
     * negative pads crop.
     */
    static Tensor pad(CpuBackendBase be, Tensor x, int[] pads, float value) {
        OpShapes.Pad pd = OpShapes.pad(x, pads);
        int rank = x.rank();
        int[] before = pd.before();
        int[] outDims = pd.out().dims();
        Tensor out = be.zeros(x.dtype(), pd.out());
        if (value != 0) {
            fill(out, value);
        }
        // The part of the input that survives: [lo, hi) along each dim, landing at lo + before.
        int[] lo = new int[rank];
        int[] count = new int[rank];
        for (int d = 0; d < rank; d++) {
            lo[d] = Math.max(0, -before[d]);
            int hi = Math.min(x.dim(d), outDims[d] - before[d]);
            count[d] = Math.max(0, hi - lo[d]);
            if (count[d] == 0) {
                return out;
            }
        }
        if (rank == 0) {
            MemorySegment.copy(CpuBackendBase.segment(x), 0, CpuBackendBase.segment(out), 0, x.byteSize());
            return out;
        }
        long[] inStrides = x.shape().strides();
        long[] outStrides = Shape.of(outDims).strides();
        long esz = x.dtype().byteSize();
        MemorySegment src = CpuBackendBase.segment(x);
        MemorySegment dst = CpuBackendBase.segment(out);
        int last = rank - 1;
        long run = count[last] * esz;
        int[] idx = new int[rank]; // odometer over the surviving region, last dim excluded
        while (true) {
            long s = 0;
            long o = 0;
            for (int d = 0; d < rank; d++) {
                s += (lo[d] + idx[d]) * inStrides[d];
                o += (lo[d] + idx[d] + before[d]) * outStrides[d];
            }
            MemorySegment.copy(src, s * esz, dst, o * esz, run);
            int d = last - 1;
            while (d >= 0 && ++idx[d] == count[d]) {
                idx[d] = 0;
                d--;
            }
            if (d < 0) {
                return out;
            }
        }
    }

    /** Sets every element of a fresh tensor to {@code value}, in its dtype. */
    private static void fill(Tensor t, float value) {
        MemorySegment seg = CpuBackendBase.segment(t);
        switch (t.dtype()) {
            case F32 -> {
                for (long i = 0; i < t.numel(); i++) {
                    seg.setAtIndex(CpuBackendBase.F32, i, value);
                }
            }
            case F16, BF16 -> {
                short bits = t.dtype() == DType.F16 ? DType.f32ToF16(value) : DType.f32ToBf16(value);
                for (long i = 0; i < t.numel(); i++) {
                    seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, bits);
                }
            }
            case I32 -> {
                for (long i = 0; i < t.numel(); i++) {
                    seg.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, (int) value);
                }
            }
            case I64 -> {
                for (long i = 0; i < t.numel(); i++) {
                    seg.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, (long) value);
                }
            }
            case I8 -> throw new IllegalArgumentException("cannot fill an I8 tensor");
        }
    }

    /**
     * Row gather: {@code out[..., :] = table[ids[...], :]}, widened to F32.
     *
     * @param ids   I64 or I32 of any shape
     * @param table {@code [vocab, d]}, F32, F16, BF16 or I8
     */
    static Tensor embedding(CpuBackendBase be, Tensor ids, Tensor table) {
        Shape outShape = OpShapes.embedding(ids, table);
        int d = table.dim(1);
        long[] idv = be.toLongArray(ids);
        OpShapes.embeddingIds(idv, table);
        Tensor out = be.empty(DType.F32, outShape);
        MemorySegment src = CpuBackendBase.segment(table);
        MemorySegment dst = CpuBackendBase.segment(out);
        float[] scales = table.dtype() == DType.I8 ? table.scales().toFloatArray() : null;
        for (int i = 0; i < idv.length; i++) {
            long id = idv[i];
            long row = id * d;
            long o = (long) i * d;
            switch (table.dtype()) {
                case F32 -> MemorySegment.copy(src, row * 4, dst, o * 4, d * 4L);
                case F16 -> {
                    for (int j = 0; j < d; j++) {
                        dst.setAtIndex(CpuBackendBase.F32, o + j,
                                Float.float16ToFloat(src.getAtIndex(CpuBackendBase.I16, row + j)));
                    }
                }
                case BF16 -> {
                    for (int j = 0; j < d; j++) {
                        dst.setAtIndex(CpuBackendBase.F32, o + j,
                                DType.bf16ToF32(src.getAtIndex(CpuBackendBase.I16, row + j)));
                    }
                }
                default -> { // I8
                    for (int j = 0; j < d; j++) {
                        dst.setAtIndex(CpuBackendBase.F32, o + j,
                                src.get(ValueLayout.JAVA_BYTE, row + j) * scales[(int) id]);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Fills {@code out} from a strided view of {@code x}: output element {@code [i0, ..., in]}
     * comes from input element {@code sum(i_k * srcStride[k])}. Dims that stay adjacent in the
     * input are merged first; then each output row (last dim) is moved as one run when it is
     * contiguous in the input, F32 tensors that are (batches of) swapped matrices go through
     * {@link #transposePlanes}, and anything else element by element. Rows are split across
     * {@link Parallel} workers (pure copies: any split gives the same bytes).
     */
    private static void gather(Tensor x, Tensor out, int[] outDims, long[] srcStride) {
        int rank = 0;
        int[] dims = new int[outDims.length];
        long[] strides = new long[outDims.length];
        for (int d = 0; d < outDims.length; d++) {
            if (outDims[d] == 1) {
                continue;
            }
            if (rank > 0 && strides[rank - 1] == srcStride[d] * outDims[d]) {
                dims[rank - 1] *= outDims[d]; // dim d continues the previous one in the input
                strides[rank - 1] = srcStride[d];
            } else {
                dims[rank] = outDims[d];
                strides[rank++] = srcStride[d];
            }
        }
        if (rank < 2) { // one contiguous run (or a single element)
            MemorySegment.copy(CpuBackendBase.segment(x), 0, CpuBackendBase.segment(out), 0, x.byteSize());
            return;
        }
        float[] src = CpuBackendBase.heapArray(x);
        float[] dst = CpuBackendBase.heapArray(out);
        if (rank <= 3 && strides[rank - 1] != 1 && strides[rank - 2] == 1 && src != null && dst != null) {
            transposePlanes(src, CpuBackendBase.heapOffset(x), dst, CpuBackendBase.heapOffset(out),
                    Math.toIntExact(out.numel() / ((long) dims[rank - 2] * dims[rank - 1])), dims[rank - 2],
                    dims[rank - 1], strides[rank - 1], rank > 2 ? strides[rank - 3] : 0);
            return;
        }
        int[] rowDims = Arrays.copyOf(dims, rank - 1);
        int rowLen = dims[rank - 1];
        long rowStride = strides[rank - 1];
        int rows = Math.toIntExact(out.numel() / rowLen);
        Parallel.forRange(rows, Math.max(1, ROW_GRAIN / rowLen), (from, to) -> copyRows(x, out, rowDims, strides,
                rowLen, rowStride, from, to));
    }

    /**
     * Output rows {@code [from, to)} of a gather: row r is output index r over {@code rowDims}
     * (all but the last output dim); each is one run when {@code rowStride} is 1.
     */
    private static void copyRows(Tensor x, Tensor out, int[] rowDims, long[] srcStride, int rowLen, long rowStride,
            int from, int to) {
        MemorySegment src = CpuBackendBase.segment(x);
        MemorySegment dst = CpuBackendBase.segment(out);
        int esz = x.dtype().byteSize();
        int[] idx = new int[rowDims.length]; // odometer over rowDims, starting at row `from`
        for (int d = rowDims.length - 1, r = from; d >= 0; d--) {
            idx[d] = r % rowDims[d];
            r /= rowDims[d];
        }
        for (int row = from; row < to; row++) {
            long s = 0;
            for (int d = 0; d < rowDims.length; d++) {
                s += idx[d] * srcStride[d];
            }
            long o = (long) row * rowLen;
            if (rowStride == 1) {
                MemorySegment.copy(src, s * esz, dst, o * esz, (long) rowLen * esz);
            } else {
                for (int j = 0; j < rowLen; j++) {
                    copyElement(src, (s + j * rowStride) * esz, dst, (o + j) * esz, esz);
                }
            }
            for (int d = rowDims.length - 1; d >= 0 && ++idx[d] == rowDims[d]; d--) {
                idx[d] = 0;
            }
        }
    }

    /**
     * {@code planes} transposes, F32: {@code dst[p][i][j] = src[p * planeStride + i + j * colStride]}
     * with dst {@code [planes, rows, cols]} contiguous. Works in {@link #TILE}-square tiles so that
     * the strided reads of a tile share their cache lines; tasks are (plane, band of TILE rows).
     */
    private static void transposePlanes(float[] src, int so, float[] dst, int dOff, int planes, int rows, int cols,
            long colStride, long planeStride) {
        int bands = (rows + TILE - 1) / TILE;
        Parallel.forRange(planes * bands, Math.max(1, ROW_GRAIN / (TILE * cols)), (from, to) -> {
            for (int t = from; t < to; t++) {
                int p = t / bands;
                int i0 = (t % bands) * TILE;
                int i1 = Math.min(rows, i0 + TILE);
                for (int j0 = 0; j0 < cols; j0 += TILE) {
                    transposeTile(src, Math.toIntExact(so + p * planeStride), dst, dOff + p * rows * cols, cols,
                            colStride, i0, i1, j0, Math.min(cols, j0 + TILE));
                }
            }
        });
    }

    /** One tile of {@link #transposePlanes}: rows {@code [i0, i1)}, columns {@code [j0, j1)}. */
    private static void transposeTile(float[] src, int so, float[] dst, int dOff, int cols, long colStride, int i0,
            int i1, int j0, int j1) {
        for (int i = i0; i < i1; i++) {
            int s = Math.toIntExact(so + i + j0 * colStride);
            int d = dOff + i * cols;
            for (int j = j0; j < j1; j++, s += (int) colStride) {
                dst[d + j] = src[s];
            }
        }
    }

    /** One element of {@code esz} bytes; plain loads and stores beat a bulk copy this small. */
    private static void copyElement(MemorySegment src, long s, MemorySegment dst, long d, int esz) {
        switch (esz) {
            case 8 -> dst.set(ValueLayout.JAVA_LONG_UNALIGNED, d, src.get(ValueLayout.JAVA_LONG_UNALIGNED, s));
            case 4 -> dst.set(ValueLayout.JAVA_INT_UNALIGNED, d, src.get(ValueLayout.JAVA_INT_UNALIGNED, s));
            case 2 -> dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, d, src.get(ValueLayout.JAVA_SHORT_UNALIGNED, s));
            default -> dst.set(ValueLayout.JAVA_BYTE, d, src.get(ValueLayout.JAVA_BYTE, s));
        }
    }
}
