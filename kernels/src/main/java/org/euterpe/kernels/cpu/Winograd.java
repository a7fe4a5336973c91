package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.GemmKernel.MR;
import static org.euterpe.kernels.cpu.GemmDriver.ceilDiv;
import static org.euterpe.kernels.cpu.GemmKernel.NR;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.euterpe.tensor.OpShapes;

/**
 * 3x3, stride-1, undilated convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and
 * Gray, "Fast Algorithms for Convolutional Neural Networks", 2015). Each 2x2 block of outputs
 * comes from the 4x4 input tile {@code d} under it as {@code Aᵀ [Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)] A}:
 * 16 multiplies per channel pair and block instead of 36. For each of the 16 tile positions
 * {@code ξ} the sum over input channels is one GEMM, {@code [outC, inC] x [inC, tiles]} on
 * {@link GemmDriver}; the transforms around it only add and halve, so the rounding stays close
 * to a direct convolution's (the halvings are exact).
 *
 * <pre>
 * Bᵀ = | 1  0 -1  0 |    G = | 1    0    0   |    Aᵀ = | 1  1  1  0 |
 *      | 0  1  1  0 |        | 1/2  1/2  1/2 |         | 0  1 -1 -1 |
 *      | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
 *      | 0  1  0 -1 |        | 0    0    1   |
 * </pre>
 *
 * <p>One call: the filters are transformed once ({@code U[ξ] [cout, cin]}); then, a chunk of tile
 * rows at a time (so the transformed tiles stay a few MB), the input tiles are transformed
 * ({@code V[ξ] [tiles, cin]}), the 16 GEMMs give {@code M[ξ] [cout, tiles]}, and the output
 * transform writes the chunk's 2x2 blocks with the bias. U, V and M live in shared {@link Workspace}s.
 * U and V are written straight into the GEMM's packed panel layout
 * ({@link GemmDriver#gemmPacked}), so nothing is packed twice. The
 * input's column combinations run on vectors of a row's tiles (even and odd columns selected from
 * two loads), its row combinations and the whole output transform on vectors of consecutive
 * tiles, which may span tile rows, so narrow images (8 blocks wide) fill vectors too; only the
 * final scatter of 2x2 blocks is scalar.
 *
 * <p>Measured on the VAE decoder's 3x3 convolutions (2 threads, best of 12, same process): 0.63-0.72x
 * the time of implicit im2col. The transforms are bound by memory traffic (V and M are 4x the
 * input and output), so smaller chunks that stay in L2 were slower: the filters then stream once
 * per chunk.
 */
final class Winograd {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Tile positions: a 4x4 input tile per 2x2 output block. */
    private static final int XI = 16;
    /**
     * Below this many output blocks per image the GEMMs get too narrow and the filter transform
     * is not paid back; implicit im2col is used instead (tunable: -Deuterpe.winograd.minTiles).
     */
    static final int MIN_TILES = Integer.getInteger("euterpe.winograd.minTiles", 128);
    /** The most floats of transformed filters (16 x out x in) held at once (16 MB); larger layers use im2col. */
    static final long MAX_FILTER_FLOATS = Long.getLong("euterpe.winograd.maxFilterFloats", 1 << 22);
    /**
     * The target size of one chunk's transformed tiles, V or M (8 MB each; tunable:
     * -Deuterpe.winograd.chunkFloats). Chunks small enough for L2 (1 MB, or a quarter of U within
     * 1-8 MB) measured 0.67-0.92x the time at 1 thread on a loaded machine, but at 2 threads on a
     * quiet one 1.08-1.33x at the U-Net's 128 and 256 channels (the phases of a chunk hand V and M
     * between the cores, and there are more of them), so the U-Net's 2-thread step keeps 8 MB.
     */
    private static final long CHUNK_FLOATS = Long.getLong("euterpe.winograd.chunkFloats", 1 << 21);

    /** Per-thread: one filter's weights for all input channels. */
    private static final ThreadLocal<float[]> WEIGHT_ROW = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread: one input row with its padding. */
    private static final ThreadLocal<float[]> PADDED_ROW = ThreadLocal.withInitial(() -> new float[0]);
    /** Lane selections from two concatenated vectors: their even and their odd lanes. */
    private static final FloatVector EVEN = FloatSource.laneIndices(q -> 2 * q);
    private static final FloatVector ODD = FloatSource.laneIndices(q -> 2 * q + 1);
    /** Per-thread: one channel's transform, part way, for every tile of a chunk. */
    private static final ThreadLocal<float[]> STAGE = ThreadLocal.withInitial(() -> new float[0]);
    /**
     * Floats between the 16 planes of U, V and M beyond their packed sizes: one cache line. The
     * transforms write (read) all 16 planes at once, and planes a multiple of 4 KiB apart (as
     * 128 x 128 and 256 x 256 planes are) all fall in the same L1 sets.
     */
    private static final int PLANE_PAD = 16;

    /** U's floats per plane for {@code cv}. */
    private static long uStep(OpShapes.Conv cv) {
        return GemmDriver.packedSize(cv.cout(), cv.cin(), true) + PLANE_PAD;
    }

    /** The transformed filters U, input tiles V and products M, shared by all convolutions. */
    private static final Workspace U_SCRATCH = new Workspace();
    private static final Workspace V_SCRATCH = new Workspace();
    private static final Workspace M_SCRATCH = new Workspace();

    private Winograd() {
    }

    /** Whether {@link #conv} computes this convolution, and does so faster than implicit im2col. */
    static boolean applies(OpShapes.Conv cv) {
        return cv.kh() == 3 && cv.kw() == 3 && cv.sh() == 1 && cv.sw() == 1 && cv.dh() == 1 && cv.dw() == 1
                && (long) ceilDiv(cv.oh(), 2) * ceilDiv(cv.ow(), 2) >= MIN_TILES
                && (long) XI * cv.cout() * cv.cin() <= MAX_FILTER_FLOATS;
    }

    /**
     * {@code out = conv2d(x, weight) + bias} for a 3x3 stride-1 undilated {@code cv} (any padding).
     *
     * @param x      the input {@code [batch, cin, h, w]} from element {@code xOff}
     * @param weight the filters {@code [cout, cin, 3, 3]}
     * @param bias   {@code [cout]} or null
     * @param out    {@code [batch, cout, oh, ow]}, every element written
     */
    static void conv(float[] x, int xOff, FloatSource weight, float[] bias, OpShapes.Conv cv, float[] out) {
        conv(x, xOff, weight, bias, cv, out, CHUNK_FLOATS);
    }

    /** {@link #conv} with chunks of about {@code chunkFloats} transformed floats (tests use small ones). */
    static void conv(float[] x, int xOff, FloatSource weight, float[] bias, OpShapes.Conv cv, float[] out,
            long chunkFloats) {
        int cin = cv.cin();
        int cout = cv.cout();
        int tilesW = ceilDiv(cv.ow(), 2);
        int tilesH = ceilDiv(cv.oh(), 2);
        int chunkRows = (int) Math.max(1, Math.min(tilesH, chunkFloats / ((long) XI * Math.max(cin, cout) * tilesW)));
        int maxTiles = roundUp(chunkRows * tilesW, NR);
        long uStep = uStep(cv);
        // One shared workspace per operand, grown to the largest layer (at most ~33 MB in all:
        // the filter cap and the chunk size bound them), not the exact-size activation pool.
        float[] u = U_SCRATCH.take(XI * uStep);
        float[] v = V_SCRATCH.take(XI * (GemmDriver.packedSize(maxTiles, cin, false) + PLANE_PAD));
        float[] m = M_SCRATCH.take((long) XI * ((long) cout * maxTiles + PLANE_PAD));
        try {
            Parallel.forRange(ceilDiv(cout, MR), 1,
                    (p0, p1) -> transformFilters(weight, cin, cout, p0, p1, u, (int) uStep));
            for (int b = 0; b < cv.batch(); b++) {
                for (int ty0 = 0; ty0 < tilesH; ty0 += chunkRows) {
                    chunk(x, xOff + b * cin * cv.h() * cv.w(), u, bias, cv, ty0, Math.min(tilesH, ty0 + chunkRows),
                            v, m, out, b * cout * cv.oh() * cv.ow());
                }
            }
        } finally {
            U_SCRATCH.give(u);
            V_SCRATCH.give(v);
            M_SCRATCH.give(m);
        }
    }

    /**
     * The output blocks in tile rows {@code [ty0, ty1)} of the image at {@code x[image ..]}, into
     * {@code out[outImage ..]}, through the scratch {@code v} and {@code m}.
     */
    private static void chunk(float[] x, int image, float[] u, float[] bias, OpShapes.Conv cv, int ty0, int ty1,
            float[] v, float[] m, float[] out, int outImage) {
        int cin = cv.cin();
        int cout = cv.cout();
        Layout lay = Layout.of(cv, ty0, ty1);
        int tiles = lay.tiles;
        int vStep = (int) GemmDriver.packedSize(tiles, cin, false) + PLANE_PAD;
        Parallel.forRange(cin, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                transformInput(x, image + c * cv.h() * cv.w(), c, lay, cv, v, vStep);
            }
        });
        int ldm = lay.padded;
        // For each ξ: M[ξ] [cout, tiles] = U[ξ] [cout, cin] x V[ξ]ᵀ (columns past the tiles are
        // left as they were: the output transform computes on them but never writes them out).
        int mStep = cout * ldm + PLANE_PAD;
        GemmDriver.gemmPacked(XI, cout, tiles, cin, u, uStep(cv), v, vStep,
                GemmDriver.Output.overwrite(m, 0, mStep, ldm, null, null));
        Parallel.forRange(cout, 1, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                transformOutput(m, o * ldm, mStep, bias == null ? 0f : bias[o], lay, cv, out,
                        outImage + o * cv.oh() * cv.ow());
            }
        });
    }

    /**
     * {@code U[ξ] = G g Gᵀ} for the filters of row panels {@code [p0, p1)} ({@code MR} filters
     * each) and every input channel, into GEMM-packed left operands, {@code uStep} floats per
     * {@code ξ}. A panel's filters are done together so each cache line of U is written whole
     * (the panel's rows are interleaved there); rows past {@code cout} are zero.
     */
    private static void transformFilters(FloatSource weight, int cin, int cout, int p0, int p1, float[] u,
            int uStep) {
        float[] g = ThreadScratch.floats(WEIGHT_ROW, 9L * cin * MR);
        for (int p = p0; p < p1; p++) {
            int rows = Math.min(MR, cout - p * MR);
            for (int r = 0; r < rows; r++) { // one read per filter: a run must not cross a dim-0 entry
                weight.read((long) (p * MR + r) * cin * 9, cin * 9, g, r * cin * 9, 1);
            }
            Arrays.fill(g, rows * cin * 9, MR * cin * 9, 0f);
            for (int pc = 0; pc < cin; pc += GemmDriver.KC) {
                int run = GemmDriver.packedRun(p * MR, pc, cout, cin, true);
                for (int c = pc; c < Math.min(cin, pc + GemmDriver.KC); c++) {
                    for (int r = 0; r < MR; r++) {
                        int f = (r * cin + c) * 9;
                        int at = run + (c - pc) * MR + r;
                        for (int i = 0; i < 4; i++) {
                            // Row i of G g, then its combinations by the columns of Gᵀ.
                            float t0 = gRow(g[f], g[f + 3], g[f + 6], i);
                            float t1 = gRow(g[f + 1], g[f + 4], g[f + 7], i);
                            float t2 = gRow(g[f + 2], g[f + 5], g[f + 8], i);
                            int xi = at + 4 * i * uStep;
                            u[xi] = t0;
                            u[xi + uStep] = 0.5f * (t0 + t1 + t2);
                            u[xi + 2 * uStep] = 0.5f * (t0 - t1 + t2);
                            u[xi + 3 * uStep] = t2;
                        }
                    }
                }
            }
        }
    }

    /** Row {@code i} of G applied to one filter column {@code (top, mid, bottom)}. */
    private static float gRow(float top, float mid, float bottom, int i) {
        return switch (i) {
            case 0 -> top;
            case 1 -> 0.5f * (top + mid + bottom);
            case 2 -> 0.5f * (top - mid + bottom);
            default -> bottom;
        };
    }

    /**
     * {@code V[ξ][t][c] = (Bᵀ d B)[ξ]} for every tile of the chunk and one input channel
     * {@code c} (plane at {@code x[plane ..]}), into GEMM-packed right operands, {@code vStep}
     * floats per {@code ξ}. Lanes past the last tile hold leftovers that the GEMM computes on
     * but never writes out (each output column depends on its own lane only, and edge tiles keep
     * only the real columns).
     */
    private static void transformInput(float[] x, int plane, int c, Layout lay, OpShapes.Conv cv, float[] v,
            int vStep) {
        int tilesW = lay.tilesW;
        // One staged row combination: every tile row and one more, and a vector's overrun.
        int seg = lay.padded + tilesW + L;
        float[] h = ThreadScratch.floats(STAGE, 8L * seg);
        // d B, row by row: each input row's combinations across each tile's four columns, staged
        // by tile so that the row combinations below run on whole vectors of consecutive tiles.
        // Input row pair p (rows 2 (ty0 + p) - ph and the one after) goes to the even (j) and odd
        // (4 + j) segments at p * tilesW: tile row p reads pairs p and p + 1.
        int width = 2 * tilesW + 2 + 2 * L; // the columns the tiles read, and a vector's overrun
        float[] padded = ThreadScratch.floats(PADDED_ROW, width);
        for (int p = 0; p <= lay.rows; p++) {
            for (int odd = 0; odd < 2; odd++) {
                int iy = 2 * (lay.ty0 + p) - cv.ph() + odd;
                int to = (4 * odd) * seg + p * tilesW;
                if (iy < 0 || iy >= cv.h()) {
                    for (int j = 0; j < 4; j++) {
                        Arrays.fill(h, to + j * seg, to + j * seg + tilesW, 0f);
                    }
                    continue;
                }
                paddedRow(x, plane + iy * cv.w(), cv, padded, width);
                // Tiles from tx0: columns 2 tx (d0) and 2 tx + 1 (d1) are the even and odd
                // lanes of the run from 2 tx0; d2 and d3 those of the run two columns on. Lanes
                // past the row's last tile are overwritten by the next pair or the zero fill below.
                for (int tx0 = 0; tx0 < tilesW; tx0 += L) {
                    FloatVector a = FloatVector.fromArray(S, padded, 2 * tx0);
                    FloatVector b = FloatVector.fromArray(S, padded, 2 * tx0 + L);
                    FloatVector d0 = EVEN.selectFrom(a, b);
                    FloatVector d1 = ODD.selectFrom(a, b);
                    a = FloatVector.fromArray(S, padded, 2 * tx0 + 2);
                    b = FloatVector.fromArray(S, padded, 2 * tx0 + 2 + L);
                    FloatVector d2 = EVEN.selectFrom(a, b);
                    FloatVector d3 = ODD.selectFrom(a, b);
                    d0.sub(d2).intoArray(h, to + tx0);
                    d1.add(d2).intoArray(h, to + seg + tx0);
                    d2.sub(d1).intoArray(h, to + 2 * seg + tx0);
                    d1.sub(d3).intoArray(h, to + 3 * seg + tx0);
                }
            }
        }
        for (int j = 0; j < 8; j++) {
            Arrays.fill(h, j * seg + (lay.rows + 1) * tilesW, (j + 1) * seg, 0f);
        }
        // Bᵀ (d B): the combinations of the tile's rows, ξ = 4 * row + column.
        int pc = c / GemmDriver.KC * GemmDriver.KC;
        for (int g = 0; g < lay.padded / L; g++) {
            int t = g * L;
            int dst = lay.runs[g * lay.slices + pc / GemmDriver.KC] + (c - pc) * NR;
            for (int j = 0; j < 4; j++) {
                FloatVector r0 = FloatVector.fromArray(S, h, j * seg + t);
                FloatVector r1 = FloatVector.fromArray(S, h, (4 + j) * seg + t);
                FloatVector r2 = FloatVector.fromArray(S, h, j * seg + t + tilesW);
                FloatVector r3 = FloatVector.fromArray(S, h, (4 + j) * seg + t + tilesW);
                r0.sub(r2).intoArray(v, dst + j * vStep);
                r1.add(r2).intoArray(v, dst + (4 + j) * vStep);
                r2.sub(r1).intoArray(v, dst + (8 + j) * vStep);
                r1.sub(r3).intoArray(v, dst + (12 + j) * vStep);
            }
        }
    }

    /**
     * The input row at {@code x[row ..]} as the tiles see it, into {@code dst}: column
     * {@code ix} at {@code dst[ix + pw]} for {@code ix + pw < width}, zero outside the image.
     */
    private static void paddedRow(float[] x, int row, OpShapes.Conv cv, float[] dst, int width) {
        int pw = cv.pw();
        int from = Math.min(width, pw);
        int to = Math.max(from, Math.min(width, cv.w() + pw));
        Arrays.fill(dst, 0, from, 0f);
        System.arraycopy(x, row + from - pw, dst, from, to - from);
        Arrays.fill(dst, to, width, 0f);
    }

    /**
     * One output channel's 2x2 blocks for the chunk: {@code Aᵀ m A + bias}, where {@code m[ξ]}
     * of tile {@code t} is at {@code m[src + ξ * step + t]}; written into the channel's plane at
     * {@code out[plane ..]}, without the row or column past an odd-sized output.
     */
    private static void transformOutput(float[] m, int src, int step, float bias, Layout lay, OpShapes.Conv cv,
            float[] out, int plane) {
        int seg = lay.padded;
        float[] y = ThreadScratch.floats(STAGE, 4L * seg);
        FloatVector b = FloatVector.broadcast(S, bias);
        // Whole vectors of tiles, staged as y[(2 dy + dx) * seg + t].
        for (int t = 0; t < lay.tiles; t += L) {
            int at = src + t;
            // Aᵀ m: the two output rows' combinations of the tile rows, per column j.
            FloatVector m1 = FloatVector.fromArray(S, m, at + 4 * step);
            FloatVector m2 = FloatVector.fromArray(S, m, at + 8 * step);
            FloatVector s00 = FloatVector.fromArray(S, m, at).add(m1).add(m2);
            FloatVector s10 = m1.sub(m2).sub(FloatVector.fromArray(S, m, at + 12 * step));
            m1 = FloatVector.fromArray(S, m, at + 5 * step);
            m2 = FloatVector.fromArray(S, m, at + 9 * step);
            FloatVector s01 = FloatVector.fromArray(S, m, at + step).add(m1).add(m2);
            FloatVector s11 = m1.sub(m2).sub(FloatVector.fromArray(S, m, at + 13 * step));
            m1 = FloatVector.fromArray(S, m, at + 6 * step);
            m2 = FloatVector.fromArray(S, m, at + 10 * step);
            FloatVector s02 = FloatVector.fromArray(S, m, at + 2 * step).add(m1).add(m2);
            FloatVector s12 = m1.sub(m2).sub(FloatVector.fromArray(S, m, at + 14 * step));
            m1 = FloatVector.fromArray(S, m, at + 7 * step);
            m2 = FloatVector.fromArray(S, m, at + 11 * step);
            FloatVector s03 = FloatVector.fromArray(S, m, at + 3 * step).add(m1).add(m2);
            FloatVector s13 = m1.sub(m2).sub(FloatVector.fromArray(S, m, at + 15 * step));
            // (Aᵀ m) A, plus the bias.
            s00.add(s01).add(s02).add(b).intoArray(y, t);
            s01.sub(s02).sub(s03).add(b).intoArray(y, seg + t);
            s10.add(s11).add(s12).add(b).intoArray(y, 2 * seg + t);
            s11.sub(s12).sub(s13).add(b).intoArray(y, 3 * seg + t);
        }
        int ow = cv.ow();
        int tilesW = lay.tilesW;
        for (int p = 0; p < lay.rows; p++) {
            for (int dy = 0; dy < 2 && 2 * (lay.ty0 + p) + dy < cv.oh(); dy++) {
                int row = plane + (2 * (lay.ty0 + p) + dy) * ow;
                int from = 2 * dy * seg + p * tilesW;
                for (int tx = 0; tx < ow / 2; tx++) {
                    out[row + 2 * tx] = y[from + tx];
                    out[row + 2 * tx + 1] = y[from + seg + tx];
                }
                if (ow % 2 != 0) {
                    out[row + ow - 1] = y[from + tilesW - 1];
                }
            }
        }
    }

    /**
     * A chunk of tile rows {@code [ty0, ty0 + rows)}, its {@code tiles = rows * tilesW} tiles
     * numbered {@code t = (ty - ty0) * tilesW + tx}, rounded up to whole GEMM panels
     * ({@code padded}). {@code runs[g * slices + s]} is where the vector of tiles from
     * {@code g * L} starts in a packed right operand's depth slice {@code s}.
     */
    private record Layout(int ty0, int rows, int tilesW, int tiles, int padded, int slices, int[] runs) {

        static Layout of(OpShapes.Conv cv, int ty0, int ty1) {
            int tilesW = ceilDiv(cv.ow(), 2);
            int tiles = (ty1 - ty0) * tilesW;
            int padded = roundUp(tiles, NR);
            int slices = ceilDiv(cv.cin(), GemmDriver.KC);
            int[] runs = new int[padded / L * slices];
            for (int g = 0; g < padded / L; g++) {
                for (int s = 0; s < slices; s++) {
                    runs[g * slices + s] = GemmDriver.packedRun(g * L, s * GemmDriver.KC, tiles, cv.cin(), false);
                }
            }
            return new Layout(ty0, ty1 - ty0, tilesW, tiles, padded, slices, runs);
        }
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
