package org.euterpe.kernels.cpu;

import static org.euterpe.kernels.cpu.GemmDriver.ceilDiv;
import static org.euterpe.kernels.cpu.GemmKernel.MR;
import static org.euterpe.kernels.cpu.GemmKernel.NR;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.euterpe.tensor.OpShapes;

/**
 * Stride-1 1-D convolutions of any dilation (HiFi-GAN's residual blocks: kernels 3, 7 and 11,
 * dilations 1, 3 and 5) by Winograd/Toom-Cook minimal filtering F(4, r): four outputs from an
 * input tile of {@code n = 4 + r - 1} samples with {@code n} multiplies per channel pair instead
 * of {@code 4 r}.
 *
 * <p>Dilation: outputs {@code o = p + d u} of one phase {@code p = o mod d} form an undilated
 * correlation of the phase's input samples {@code z_p[v] = x[p - pad + d v]}, so each phase is
 * tiled on its own ({@code y_p[u] = Σ_j w[j] z_p[u + j]}).
 *
 * <p>Long kernels: a kernel of {@code k > 4} taps is cut into {@code ceil(k / 4)} pieces of four
 * (the last zero-padded), each an F(4, 4). Piece {@code c} of output tile {@code b} reads the
 * same input samples as piece 0 of tile {@code b + c}, so one transformed input serves every
 * piece, and the pieces are just more depth for the GEMMs: per tile position {@code ξ},
 * {@code M[ξ] [cout, tiles] = U[ξ] [cout, pieces * cin] x V[ξ] [pieces * cin, tiles]}, where
 * row {@code (c, cin)} of V is the transformed input tile {@code c} tiles on. Multiplies per
 * output and channel pair: 1.5 for k = 3 (F(4, 3), was 3), 3.5 for k = 7, 5.25 for k = 11.
 *
 * <p>The transforms come from the interpolation points (0, ±1, ±2, ∞ for F(4, 3); and 1/2 for
 * F(4, 4)) as in Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks" (2015):
 * the output transform evaluates at the points, the input transform is the transposed inverse
 * Vandermonde matrix, each of its columns scaled so its smallest term is ±1 (small integers for
 * these points), and the filter transform carries the scale back. In float the result's error is
 * several times a direct convolution's (1.2e-6 against 2.1e-7 of the largest output at 256
 * channels and k = 11; the conformance vocoders, forced through it, stay within 7.4e-7 of the
 * reference).
 *
 * <p>One call: the filters are transformed once, straight into the GEMM's packed left operands
 * (U). Then, for a chunk of the row at a time (a stretch of every phase, so V and M stay a few
 * MB): the input transform, per channel, on vectors of 16 consecutive tiles (V, one row per
 * channel, not per piece); per {@code ξ} the GEMM on {@link GemmDriver}, its right operand
 * packed from V's shifted rows as the blocks are reached; the output transform with the bias.
 * U, V and M live in shared {@link Workspace}s. Measured against implicit im2col (2 threads,
 * interleaved in one process): 0.4-0.75x the time at 512 and 256 channels, 0.7-0.8x at 128
 * channels with k = 7 or 11; the vocoder stage 0.72-0.85x.
 */
final class Winograd1d {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Outputs per tile. */
    static final int TILE = 4;

    /**
     * Below this many channels (in or out), or this GEMM depth ({@code pieces * cin}), the GEMMs
     * are too small for the transforms to pay off (tunable: -Deuterpe.winograd1d.minChannels,
     * minDepth). Measured against implicit im2col at HiFi-GAN's shapes: 128 channels at k = 7 and
     * 11 took 0.7-0.8x the time, at k = 3 1.0-1.3x; 64 channels 1.0-1.7x.
     */
    static final int MIN_CHANNELS = Integer.getInteger("euterpe.winograd1d.minChannels", 128);
    static final int MIN_DEPTH = Integer.getInteger("euterpe.winograd1d.minDepth", 256);
    /** Below this many outputs per row the filter transform is not paid back. */
    static final int MIN_LENGTH = Integer.getInteger("euterpe.winograd1d.minLength", 256);
    /** The most floats of transformed filters held at once (32 MB: HiFi-GAN's 512-channel k = 11 needs 22). */
    static final long MAX_FILTER_FLOATS = Long.getLong("euterpe.winograd1d.maxFilterFloats", 1 << 23);
    /**
     * The target size of one chunk's V and M together (8 MB; -Deuterpe.winograd1d.chunkFloats).
     * 1 and 3 MB, small enough for L2, measured no faster: the filters then stream once per chunk.
     */
    private static final long CHUNK_FLOATS = Long.getLong("euterpe.winograd1d.chunkFloats", 1 << 21);

    static final Algorithm F43 = Algorithm.of(3, new double[] {0, 1, -1, 2, -2});
    static final Algorithm F44 = Algorithm.of(4, new double[] {0, 1, -1, 2, -2, 0.5});

    /** Per-thread: one panel's filters for all input channels. */
    private static final ThreadLocal<float[]> FILTERS = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread: one channel's input samples for one phase of a chunk, dealt by position in the tile. */
    private static final ThreadLocal<float[]> SAMPLES = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread: one vector of tiles' outputs before they are scattered. */
    private static final ThreadLocal<float[]> OUT_STAGE = ThreadLocal.withInitial(() -> new float[TILE * L]);
    private static final Workspace U_SCRATCH = new Workspace();
    private static final Workspace V_SCRATCH = new Workspace();
    private static final Workspace M_SCRATCH = new Workspace();

    private Winograd1d() {
    }

    /**
     * One F(4, r): {@code n = r + 3} tile positions {@code ξ}. The input transform's column
     * {@code ξ} and the output transform's row {@code i} are kept as their nonzero terms only.
     *
     * @param inTaps   {@code inTaps[ξ]}: the tile samples {@code v} that position {@code ξ} adds
     * @param inCoef   {@code inCoef[ξ]}: their coefficients ({@code V[ξ] = Σ inCoef · d[inTaps]})
     * @param filter   {@code filter[ξ][j]}: {@code U[ξ] = Σ_j filter[ξ][j] g[j]}
     * @param outTaps  {@code outTaps[i]}: the positions {@code ξ} output {@code i} adds
     * @param outCoef  {@code outCoef[i]}: their coefficients ({@code y[i] = Σ outCoef · M[outTaps]})
     */
    record Algorithm(int r, int n, int[][] inTaps, float[][] inCoef, float[][] filter, int[][] outTaps,
            float[][] outCoef) {

        /** F(4, r) from {@code r + 2} finite interpolation points and infinity. */
        static Algorithm of(int r, double[] points) {
            int n = TILE + r - 1;
            if (points.length != n - 1) {
                throw new IllegalArgumentException("F(4, " + r + ") needs " + (n - 1) + " finite points");
            }
            // Rows of the full evaluation matrix: (1, a, .., a^(n-1)) per point, (0, .., 0, 1) for infinity.
            double[][] vander = new double[n][];
            for (int xi = 0; xi < n; xi++) {
                vander[xi] = powers(xi, points, n);
            }
            double[][] inv = invert(vander); // interpolation: coefficients from values
            int[][] inTaps = new int[n][];
            float[][] inCoef = new float[n][];
            float[][] filter = new float[n][r];
            for (int xi = 0; xi < n; xi++) {
                // Column ξ of the inverse scaled so its smallest term is ±1 (small integers for
                // these points), the filter transform divided by the same scale.
                double smallest = Double.MAX_VALUE;
                for (int v = 0; v < n; v++) {
                    if (Math.abs(inv[v][xi]) > 1e-12) {
                        smallest = Math.min(smallest, Math.abs(inv[v][xi]));
                    }
                }
                double[] col = new double[n];
                for (int v = 0; v < n; v++) {
                    col[v] = Math.abs(inv[v][xi]) > 1e-12 ? inv[v][xi] / smallest : 0;
                }
                inTaps[xi] = nonzero(col);
                inCoef[xi] = coefficients(col, inTaps[xi]);
                double[] eval = powers(xi, points, r);
                for (int j = 0; j < r; j++) {
                    filter[xi][j] = (float) (eval[j] * smallest);
                }
            }
            // Output i is Σ_ξ a_ξ^i M[ξ]: row i of the transposed evaluation matrix.
            double[][] atPoints = new double[TILE][n];
            for (int xi = 0; xi < n; xi++) {
                double[] p = powers(xi, points, TILE);
                for (int i = 0; i < TILE; i++) {
                    atPoints[i][xi] = p[i];
                }
            }
            int[][] outTaps = new int[TILE][];
            float[][] outCoef = new float[TILE][];
            for (int i = 0; i < TILE; i++) {
                outTaps[i] = nonzero(atPoints[i]);
                outCoef[i] = coefficients(atPoints[i], outTaps[i]);
            }
            return new Algorithm(r, n, inTaps, inCoef, filter, outTaps, outCoef);
        }

        /** Point {@code xi}'s first {@code count} powers; for infinity (the last position) the leading term alone. */
        private static double[] powers(int xi, double[] points, int count) {
            double[] p = new double[count];
            if (xi == points.length) {
                p[count - 1] = 1;
                return p;
            }
            double a = 1;
            for (int e = 0; e < count; e++) {
                p[e] = a;
                a *= points[xi];
            }
            return p;
        }

        private static int[] nonzero(double[] v) {
            return java.util.stream.IntStream.range(0, v.length).filter(i -> v[i] != 0).toArray();
        }

        private static float[] coefficients(double[] v, int[] taps) {
            float[] c = new float[taps.length];
            for (int i = 0; i < taps.length; i++) {
                c[i] = (float) v[taps[i]];
            }
            return c;
        }

        /** Gauss-Jordan inverse with partial pivoting (the matrices here are at most 7x7 and well posed). */
        private static double[][] invert(double[][] a) {
            int n = a.length;
            double[][] w = new double[n][2 * n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(a[i], 0, w[i], 0, n);
                w[i][n + i] = 1;
            }
            for (int col = 0; col < n; col++) {
                int piv = col;
                for (int i = col + 1; i < n; i++) {
                    if (Math.abs(w[i][col]) > Math.abs(w[piv][col])) {
                        piv = i;
                    }
                }
                double[] t = w[piv];
                w[piv] = w[col];
                w[col] = t;
                double inv = 1 / w[col][col];
                for (int j = 0; j < 2 * n; j++) {
                    w[col][j] *= inv;
                }
                for (int i = 0; i < n; i++) {
                    if (i != col && w[i][col] != 0) {
                        double f = w[i][col];
                        for (int j = 0; j < 2 * n; j++) {
                            w[i][j] -= f * w[col][j];
                        }
                    }
                }
            }
            double[][] out = new double[n][n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(w[i], n, out[i], 0, n);
            }
            return out;
        }
    }

    /** The algorithm for a kernel of {@code k} taps: F(4, 3) up to three taps, else pieces of F(4, 4). */
    static Algorithm algorithm(int k) {
        return k <= 3 ? F43 : F44;
    }

    /** Whether {@link #conv} computes this convolution, and does so faster than implicit im2col. */
    static boolean applies(OpShapes.Conv cv) {
        if (cv.h() != 1 || cv.kh() != 1 || cv.sw() != 1 || cv.kw() < 2) {
            return false;
        }
        Algorithm alg = algorithm(cv.kw());
        long depth = (long) ceilDiv(cv.kw(), alg.r) * cv.cin();
        return cv.cin() >= MIN_CHANNELS && cv.cout() >= MIN_CHANNELS && depth >= MIN_DEPTH && cv.ow() >= MIN_LENGTH
                && (long) alg.n * GemmDriver.packedSize(cv.cout(), (int) Math.min(depth, Integer.MAX_VALUE), true)
                        <= MAX_FILTER_FLOATS;
    }

    /**
     * {@code out = conv1d(x, weight) + bias} for a stride-1 {@code cv} of any dilation and padding.
     *
     * @param x      the input {@code [batch, cin, length]} from element {@code xOff}
     * @param weight the filters {@code [cout, cin, k]}
     * @param bias   {@code [cout]} or null
     * @param out    {@code [batch, cout, outLength]}, every element written
     */
    static void conv(float[] x, int xOff, FloatSource weight, float[] bias, OpShapes.Conv cv, float[] out) {
        conv(x, xOff, weight, bias, cv, out, CHUNK_FLOATS);
    }

    /** {@link #conv} with chunks of about {@code chunkFloats} transformed floats, V and M (tests use small ones). */
    static void conv(float[] x, int xOff, FloatSource weight, float[] bias, OpShapes.Conv cv, float[] out,
            long chunkFloats) {
        Algorithm alg = algorithm(cv.kw());
        int cin = cv.cin();
        int cout = cv.cout();
        int depth = ceilDiv(cv.kw(), alg.r) * cin;
        Tiling tiling = Tiling.of(cv.ow(), cv.dw());
        // Blocks of L tiles per phase in a chunk: a multiple of NR / L, so its columns fill whole GEMM panels.
        long perBlock = (long) alg.n * tiling.phases * L * (cin + cout);
        int q = NR / L;
        int blocks = Math.min(ceilDiv(tiling.blocks, q) * q, q * (int) Math.max(1, chunkFloats / (q * perBlock)));
        Chunk most = Chunk.of(tiling, 0, blocks);
        long uStep = GemmDriver.packedSize(cout, depth, true);
        float[] u = U_SCRATCH.take(alg.n * uStep);
        float[] v = V_SCRATCH.take((long) alg.n * cin * most.vCols);
        float[] m = M_SCRATCH.take((long) alg.n * cout * most.padded);
        try {
            Parallel.forRange(ceilDiv(cout, MR), 1,
                    (p0, p1) -> transformFilters(alg, weight, cv, depth, p0, p1, u, (int) uStep));
            for (int b = 0; b < cv.batch(); b++) {
                for (int b0 = 0; b0 < tiling.blocks; b0 += blocks) {
                    chunk(alg, x, xOff + b * cin * cv.w(), u, bias, cv, depth,
                            Chunk.of(tiling, b0, Math.min(tiling.blocks, b0 + blocks)), v, m, out, b * cout * cv.ow());
                }
            }
        } finally {
            U_SCRATCH.give(u);
            V_SCRATCH.give(v);
            M_SCRATCH.give(m);
        }
    }

    /**
     * {@code U[ξ][o][(c, i)] = Σ_j filter[ξ][j] w[o][i][r c + j]} for the filters of row panels
     * {@code [p0, p1)} ({@code MR} each), into GEMM-packed left operands, {@code uStep} floats per
     * {@code ξ}; depth row {@code (c, i)} is {@code c * cin + i}, rows past {@code cout} are zero.
     * A panel's taps are first interleaved as the packed layout is ({@code [tap][i][MR]}), so each
     * run of U is a short sum of contiguous vectors.
     */
    private static void transformFilters(Algorithm alg, FloatSource weight, OpShapes.Conv cv, int depth, int p0,
            int p1, float[] u, int uStep) {
        int cin = cv.cin();
        int cout = cv.cout();
        int k = cv.kw();
        int taps = ceilDiv(k, alg.r) * alg.r;
        int raw = MR * cin * k;
        float[] g = ThreadScratch.floats(FILTERS, raw + (long) taps * cin * MR);
        for (int p = p0; p < p1; p++) {
            int rows = Math.min(MR, cout - p * MR);
            for (int r = 0; r < rows; r++) { // one read per filter: a run must not cross a dim-0 entry
                weight.read((long) (p * MR + r) * cin * k, cin * k, g, r * cin * k, 1);
            }
            Arrays.fill(g, rows * cin * k, raw, 0f);
            for (int t = 0; t < taps; t++) {
                int to = raw + t * cin * MR;
                for (int i = 0; i < cin; i++) {
                    for (int r = 0; r < MR; r++) {
                        g[to + i * MR + r] = t < k ? g[(r * cin + i) * k + t] : 0f;
                    }
                }
            }
            // Runs of depth rows within one piece and one GEMM depth slice: contiguous in U and in g.
            for (int row = 0; row < depth;) {
                int piece = row / cin;
                int slice = row / GemmDriver.KC;
                int end = Math.min(Math.min((piece + 1) * cin, (slice + 1) * GemmDriver.KC), depth);
                int dst = GemmDriver.packedRun(p * MR, slice * GemmDriver.KC, cout, depth, true)
                        + (row - slice * GemmDriver.KC) * MR;
                int src = raw + (piece * alg.r * cin + row - piece * cin) * MR;
                int count = (end - row) * MR;
                for (int xi = 0; xi < alg.n; xi++) {
                    float[] f = alg.filter[xi];
                    int at = dst + xi * uStep;
                    int e = 0;
                    for (; e <= count - L; e += L) {
                        FloatVector acc = FloatVector.zero(S);
                        for (int j = 0; j < alg.r; j++) {
                            acc = FloatVector.fromArray(S, g, src + j * cin * MR + e)
                                    .fma(FloatVector.broadcast(S, f[j]), acc);
                        }
                        acc.intoArray(u, at + e);
                    }
                    for (; e < count; e++) {
                        float acc = 0f;
                        for (int j = 0; j < alg.r; j++) {
                            acc = Math.fma(g[src + j * cin * MR + e], f[j], acc);
                        }
                        u[at + e] = acc;
                    }
                }
                row = end;
            }
        }
    }

    /**
     * One chunk's outputs (of the image at {@code x[image ..]}, into {@code out[outImage ..]}),
     * through the scratch {@code v} and {@code m}: the input transform, per channel; for each
     * {@code ξ} the GEMM {@code M[ξ] [cout, columns] += U[ξ] x V[ξ]}, its right operand packed
     * from V on the way (row {@code (c, i)} is channel {@code i}'s row read {@code c} tiles on);
     * the output transform, per output channel.
     */
    private static void chunk(Algorithm alg, float[] x, int image, float[] u, float[] bias, OpShapes.Conv cv,
            int depth, Chunk ch, float[] v, float[] m, float[] out, int outImage) {
        int cin = cv.cin();
        int cout = cv.cout();
        int vStep = cin * ch.vCols;
        Parallel.forRange(cin, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                transformInput(alg, x, image + c * cv.w(), cv, ch, v, c * ch.vCols, vStep);
            }
        });
        PanelPacker shifted = (xi, i0, count, k0, kc, r, dst) -> packShifted(v, xi * vStep, cin, ch, i0, count, k0,
                kc, r, dst);
        GemmDriver.gemmPackedA(alg.n, cout, ch.padded, depth, u, shifted,
                GemmDriver.Output.overwrite(m, 0, cout * ch.padded, ch.padded, null, null),
                ceilDiv(Parallel.chunkTarget(), alg.n));
        Parallel.forRange(cout, 1, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                transformOutput(alg, m, o * ch.padded, cout * ch.padded, bias == null ? 0f : bias[o], cv, ch, out,
                        outImage + o * cv.ow());
            }
        });
    }

    /**
     * {@code V[ξ]} of one input channel (at {@code x[plane ..]}) for the chunk's tiles, each phase's
     * run and one more vector of tiles (what the pieces read past the run), into
     * {@code v[row + ξ * step ..]}: phase {@code p}'s tile {@code t} at column {@code vStart[p] + t - L b0}.
     */
    private static void transformInput(Algorithm alg, float[] x, int plane, OpShapes.Conv cv, Chunk ch, float[] v,
            int row, int step) {
        int d = cv.dw();
        int len = cv.w();
        for (int p = 0; p < ch.tiling.phases; p++) {
            int count = (ch.groups[p] + 1) * L; // tiles to transform
            int span = count + 1; // tile t + 1 holds samples 4..7 of tile t
            float[] w = ThreadScratch.floats(SAMPLES, (long) TILE * span);
            // w[q * span + t] = z_p[4 (first + t) + q] = x[p - pad + d (4 (first + t) + q)]
            int first = ch.b0 * L;
            int origin = p - cv.pw() + d * TILE * first; // sample q of tile t at origin + d (4 t + q)
            // Whole vectors of tiles inside the row: four contiguous vectors dealt by position
            // (undilated), or gathers of stride 4d; the rest, at the row's ends, one by one.
            int t0 = Math.min(span, Math.max(0, ceilDiv(-origin, d * TILE)));
            int t1 = t0;
            for (; t1 + L <= span && origin + d * (TILE * (t1 + L) - 1) < len; t1 += L) {
                int at = plane + origin + d * TILE * t1;
                if (d == 1) {
                    FloatSource.deinterleave4(x, at, w, t1, span);
                } else {
                    for (int q = 0; q < TILE; q++) {
                        FloatVector.fromArray(S, x, at + d * q, ch.tiling.gather, 0).intoArray(w, q * span + t1);
                    }
                }
            }
            for (int q = 0; q < TILE; q++) {
                int at = plane + origin + d * q;
                for (int t = 0; t < t0; t++) {
                    w[q * span + t] = sample(x, at + d * TILE * t, plane, len);
                }
                for (int t = t1; t < span; t++) {
                    w[q * span + t] = sample(x, at + d * TILE * t, plane, len);
                }
            }
            int dst = row + ch.vStart[p];
            for (int t = 0; t < count; t += L) {
                for (int xi = 0; xi < alg.n; xi++) {
                    int[] taps = alg.inTaps[xi];
                    float[] coef = alg.inCoef[xi];
                    FloatVector acc = FloatVector.zero(S);
                    for (int q = 0; q < taps.length; q++) {
                        int s = taps[q];
                        acc = FloatVector.fromArray(S, w, (s % TILE) * span + t + s / TILE)
                                .fma(FloatVector.broadcast(S, coef[q]), acc);
                    }
                    acc.intoArray(v, dst + xi * step + t);
                }
            }
        }
    }

    /** {@code x[at]}, or zero where {@code at} is outside the row {@code [plane, plane + len)} (the padding). */
    private static float sample(float[] x, int at, int plane, int len) {
        return at >= plane && at < plane + len ? x[at] : 0f;
    }

    /**
     * Packs GEMM columns {@code [i0, i0 + count)} (whole vectors of tiles) and depth rows
     * {@code [k0, k0 + kc)} of one {@code ξ}'s right operand from V at {@code v[base ..]}: row
     * {@code (c, i)} of column {@code j} is channel {@code i}'s transformed tile {@code c} tiles on
     * from column {@code j}'s, in the same phase. Columns past the chunk's tiles are zero.
     */
    private static void packShifted(float[] v, int base, int cin, Chunk ch, int i0, int count, int k0, int kc, int r,
            float[] dst) {
        for (int kk = 0; kk < kc; kk++) {
            int k = k0 + kk;
            int src = base + k % cin * ch.vCols + k / cin;
            for (int j = 0; j < count; j += L) {
                int at = j / r * r * kc + kk * r + j % r;
                int col = ch.vColumn[(i0 + j) / L];
                if (col < 0) {
                    Arrays.fill(dst, at, at + L, 0f);
                } else {
                    FloatVector.fromArray(S, v, src + col).intoArray(dst, at);
                }
            }
        }
    }

    /**
     * One output channel's outputs for the chunk: {@code y[i] = Σ outCoef M + bias}, where
     * {@code M[ξ]} of column {@code j} is at {@code m[src + ξ * step + j]}; scattered to the
     * channel's row at {@code out[row ..]} (output {@code i} of tile {@code t} of phase {@code p}
     * is at {@code p + d (4 t + i)}), without the outputs past the row's end.
     */
    private static void transformOutput(Algorithm alg, float[] m, int src, int step, float bias, OpShapes.Conv cv,
            Chunk ch, float[] out, int row) {
        float[] y = OUT_STAGE.get();
        int d = cv.dw();
        int outLen = cv.ow();
        for (int p = 0; p < ch.tiling.phases; p++) {
            groups:
            for (int g = 0; g < ch.groups[p]; g++) {
                int col = src + ch.colStart[p] + g * L;
                for (int i = 0; i < TILE; i++) {
                    int[] taps = alg.outTaps[i];
                    float[] coef = alg.outCoef[i];
                    FloatVector acc = FloatVector.broadcast(S, bias);
                    for (int q = 0; q < taps.length; q++) {
                        acc = FloatVector.fromArray(S, m, col + taps[q] * step).fma(FloatVector.broadcast(S, coef[q]),
                                acc);
                    }
                    acc.intoArray(y, i * L);
                }
                int pos = p + d * TILE * (ch.b0 + g) * L;
                if (pos + d * (TILE * L - 1) < outLen) { // the whole group inside the row
                    if (d == 1) {
                        FloatSource.interleave4(FloatVector.fromArray(S, y, 0), FloatVector.fromArray(S, y, L),
                                FloatVector.fromArray(S, y, 2 * L), FloatVector.fromArray(S, y, 3 * L), out, row + pos);
                    } else {
                        for (int i = 0; i < TILE; i++) {
                            FloatVector.fromArray(S, y, i * L).intoArray(out, row + pos + i * d, ch.tiling.gather, 0);
                        }
                    }
                    continue;
                }
                for (int lane = 0; lane < L; lane++) {
                    for (int i = 0; i < TILE; i++, pos += d) {
                        if (pos >= outLen) {
                            continue groups; // the phase's last group, past its last tile
                        }
                        out[row + pos] = y[i * L + lane];
                    }
                }
            }
        }
    }

    /**
     * The tiles of one row: phase {@code p} (outputs {@code p + d u}) has {@code tiles[p]}, in
     * blocks of {@code L} consecutive tiles; {@code blocks} is the most any phase has (phase 0's).
     * {@code gather[l] = 4 d l}: where lane {@code l}'s tile starts, relative to lane 0's.
     */
    record Tiling(int phases, int[] tiles, int blocks, int[] gather) {

        static Tiling of(int outLen, int dilation) {
            int phases = Math.min(dilation, outLen);
            int[] tiles = new int[phases];
            for (int p = 0; p < phases; p++) {
                tiles[p] = ceilDiv(ceilDiv(outLen - p, dilation), TILE);
            }
            int[] gather = new int[L];
            for (int l = 0; l < L; l++) {
                gather[l] = dilation * TILE * l;
            }
            return new Tiling(phases, tiles, ceilDiv(tiles[0], L), gather);
        }
    }

    /**
     * Blocks {@code [b0, b0 + blocks)} of every phase: a contiguous stretch of the row. Phase
     * {@code p} has {@code groups[p]} of them (fewer at the row's end). GEMM columns: the phases'
     * tiles one after another ({@code colStart[p]}), {@code cols} in all, {@code padded} to whole
     * panels. V's columns: the same with one more vector of tiles after each phase's
     * ({@code vStart[p]}, {@code vCols} in all); {@code vColumn[j]} is V's column for GEMM
     * column {@code j L}, or -1 in the padding.
     */
    record Chunk(Tiling tiling, int b0, int[] groups, int[] colStart, int[] vStart, int cols, int padded, int vCols,
            int[] vColumn) {

        static Chunk of(Tiling tiling, int b0, int b1) {
            int phases = tiling.phases;
            int[] groups = new int[phases];
            int[] colStart = new int[phases];
            int[] vStart = new int[phases];
            int cols = 0;
            for (int p = 0; p < phases; p++) {
                groups[p] = Math.max(0, Math.min(b1, ceilDiv(tiling.tiles[p], L)) - b0);
                colStart[p] = cols;
                vStart[p] = cols + p * L;
                cols += groups[p] * L;
            }
            int padded = ceilDiv(cols, NR) * NR;
            int[] vColumn = new int[padded / L];
            Arrays.fill(vColumn, -1);
            for (int p = 0; p < phases; p++) {
                for (int g = 0; g < groups[p]; g++) {
                    vColumn[colStart[p] / L + g] = vStart[p] + g * L;
                }
            }
            return new Chunk(tiling, b0, groups, colStart, vStart, cols, padded, cols + phases * L, vColumn);
        }
    }
}
