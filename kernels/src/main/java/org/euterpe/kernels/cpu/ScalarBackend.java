package org.euterpe.kernels.cpu;

import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.HostStorage;
import org.euterpe.tensor.OpShapes;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;

/**
 * The reference backend: every op as plain loops over widened float arrays, with dot products
 * and reductions accumulated in double. It is slow on purpose; its job is to be obviously
 * right, so the fast backends can be tested against it.
 */
public final class ScalarBackend extends CpuBackendBase {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public String description() {
        return "CPU, plain scalar loops (reference)";
    }

    // ---------------------------------------------------------------- linear algebra

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB, float alpha, Tensor bias, float beta,
            Tensor c) {
        OpShapes.Gemm g = OpShapes.matmul(a, b, transA, transB, bias, c);
        int m = g.m();
        int n = g.n();
        int k = g.k();
        boolean sharedB = g.sharedB();
        Shape outShape = g.out();
        float[] av = floats(a);
        float[] bv = floats(b);
        float[] biasv = bias == null ? null : floats(bias);
        float[] cv = c == null ? null : floats(c);
        int batches = g.batches();
        float[] out = new float[Math.toIntExact(outShape.numel())];
        for (int bt = 0; bt < batches; bt++) {
            int aBase = bt * m * k;
            int bBase = sharedB ? 0 : bt * k * n;
            int oBase = bt * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        float x = av[aBase + (transA ? p * m + i : i * k + p)];
                        float y = bv[bBase + (transB ? j * k + p : p * n + j)];
                        acc += (double) x * y;
                    }
                    double r = alpha * acc;
                    if (biasv != null) {
                        r += biasv[j];
                    }
                    if (cv != null) {
                        r += (double) beta * cv[oBase + i * n + j];
                    }
                    out[oBase + i * n + j] = (float) r;
                }
            }
        }
        return result(out, outShape);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Shape outShape = OpShapes.linear(x, weight, bias);
        int in = weight.dim(1);
        int outF = weight.dim(0);
        float[] xv = floats(x);
        float[] wv = floats(weight);
        float[] bv = bias == null ? null : floats(bias);
        int rows = Math.toIntExact(x.shape().outer(x.rank() - 1));
        float[] out = new float[rows * outF];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outF; o++) {
                double acc = bv == null ? 0 : bv[o];
                for (int p = 0; p < in; p++) {
                    acc += (double) xv[r * in + p] * wv[o * in + p];
                }
                out[r * outF + o] = (float) acc;
            }
        }
        return result(out, outShape);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        return conv(OpShapes.conv2d(x, weight, bias, stride, padding, dilation), x, weight, bias);
    }

    @Override
    public Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        return conv(OpShapes.conv1d(x, weight, bias, stride, padding, dilation), x, weight, bias);
    }

    /** Direct convolution, every op seen as a 2-D one (see {@link OpShapes.Conv}). */
    private Tensor conv(OpShapes.Conv cv, Tensor x, Tensor weight, Tensor bias) {
        int batch = cv.batch();
        int cin = cv.cin();
        int h = cv.h();
        int w = cv.w();
        int cout = cv.cout();
        int kh = cv.kh();
        int kw = cv.kw();
        int oh = cv.oh();
        int ow = cv.ow();
        int sh = cv.sh();
        int ph = cv.ph();
        int dh = cv.dh();
        int sw = cv.sw();
        int pw = cv.pw();
        int dw = cv.dw();
        float[] xv = floats(x);
        float[] wv = floats(weight);
        float[] bv = bias == null ? null : floats(bias);
        float[] out = new float[batch * cout * oh * ow];
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < cout; o++) {
                for (int y = 0; y < oh; y++) {
                    for (int xo = 0; xo < ow; xo++) {
                        double acc = bv == null ? 0 : bv[o];
                        for (int c = 0; c < cin; c++) {
                            for (int i = 0; i < kh; i++) {
                                int iy = y * sh - ph + i * dh;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int j = 0; j < kw; j++) {
                                    int ix = xo * sw - pw + j * dw;
                                    if (ix < 0 || ix >= w) {
                                        continue;
                                    }
                                    acc += (double) xv[((b * cin + c) * h + iy) * w + ix]
                                            * wv[((o * cin + c) * kh + i) * kw + j];
                                }
                            }
                        }
                        out[((b * cout + o) * oh + y) * ow + xo] = (float) acc;
                    }
                }
            }
        }
        return result(out, cv.out());
    }

    @Override
    public Tensor convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding,
            int dilation) {
        Shape outShape = OpShapes.convTranspose1d(x, weight, bias, stride, padding, outputPadding, dilation);
        int batch = x.dim(0);
        int cin = x.dim(1);
        int len = x.dim(2);
        int cout = weight.dim(1);
        int k = weight.dim(2);
        int outLen = outShape.dim(2);
        float[] xv = floats(x);
        float[] wv = floats(weight);
        float[] bv = bias == null ? null : floats(bias);
        double[] acc = new double[batch * cout * outLen];
        // Scatter form: input position i, tap j lands on output i*stride - padding + j*dilation.
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < cin; c++) {
                for (int i = 0; i < len; i++) {
                    float xi = xv[(b * cin + c) * len + i];
                    for (int o = 0; o < cout; o++) {
                        for (int j = 0; j < k; j++) {
                            int t = i * stride - padding + j * dilation;
                            if (t >= 0 && t < outLen) {
                                acc[(b * cout + o) * outLen + t] += (double) xi * wv[(c * cout + o) * k + j];
                            }
                        }
                    }
                }
            }
        }
        float[] out = new float[acc.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (acc[i] + (bv == null ? 0 : bv[(i / outLen) % cout]));
        }
        return result(out, outShape);
    }

    // ---------------------------------------------------------------- normalisation

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        OpShapes.groupNorm(x, groups, gamma, beta);
        int batch = x.dim(0);
        int channels = x.dim(1);
        int spatial = Math.toIntExact(x.shape().inner(1));
        float[] xv = floats(x);
        float[] g = gamma == null ? null : floats(gamma);
        float[] bt = beta == null ? null : floats(beta);
        int perGroup = channels / groups * spatial;
        float[] out = new float[xv.length];
        for (int b = 0; b < batch; b++) {
            for (int grp = 0; grp < groups; grp++) {
                int base = (b * groups + grp) * perGroup;
                double[] stats = meanVar(xv, base, perGroup);
                double inv = 1 / Math.sqrt(stats[1] + eps);
                for (int i = 0; i < perGroup; i++) {
                    int ch = grp * (channels / groups) + i / spatial;
                    double y = (xv[base + i] - stats[0]) * inv;
                    y = y * (g == null ? 1 : g[ch]) + (bt == null ? 0 : bt[ch]);
                    out[base + i] = (float) (silu ? y / (1 + Math.exp(-y)) : y);
                }
            }
        }
        return result(out, x.shape());
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        int d = OpShapes.layerNorm(x, gamma, beta);
        float[] xv = floats(x);
        float[] g = gamma == null ? null : floats(gamma);
        float[] bt = beta == null ? null : floats(beta);
        float[] out = new float[xv.length];
        for (int base = 0; base < xv.length; base += d) {
            double[] stats = meanVar(xv, base, d);
            double inv = 1 / Math.sqrt(stats[1] + eps);
            for (int i = 0; i < d; i++) {
                double y = (xv[base + i] - stats[0]) * inv;
                out[base + i] = (float) (y * (g == null ? 1 : g[i]) + (bt == null ? 0 : bt[i]));
            }
        }
        return result(out, x.shape());
    }

    /** Mean and biased variance (as torch's norms) of {@code v[base, base+n)}, two-pass. */
    private static double[] meanVar(float[] v, int base, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += v[base + i];
        }
        double mean = sum / n;
        double sq = 0;
        for (int i = 0; i < n; i++) {
            double dv = v[base + i] - mean;
            sq += dv * dv;
        }
        return new double[] {mean, sq / n};
    }

    @Override
    public Tensor softmax(Tensor x) {
        int d = OpShapes.lastDim("softmax", x);
        float[] xv = floats(x);
        float[] out = new float[xv.length];
        double[] row = new double[d];
        for (int base = 0; base < xv.length; base += d) {
            for (int i = 0; i < d; i++) {
                row[i] = xv[base + i];
            }
            softmaxInPlace(row, d);
            for (int i = 0; i < d; i++) {
                out[base + i] = (float) row[i];
            }
        }
        return result(out, x.shape());
    }

    /** Max-subtracted softmax of {@code row[0, n)}. */
    private static void softmaxInPlace(double[] row, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, row[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            row[i] = Math.exp(row[i] - max);
            sum += row[i];
        }
        for (int i = 0; i < n; i++) {
            row[i] /= sum;
        }
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        OpShapes.Attention at = OpShapes.attention(q, k, v, mask);
        int batch = at.batch();
        int heads = at.heads();
        int lq = at.lq();
        int d = at.d();
        int lk = at.lk();
        int dv = at.dv();
        long[] maskStrides = at.maskStrides();
        float[] qv = floats(q);
        float[] kv = floats(k);
        float[] vv = floats(v);
        float[] mv = mask == null ? null : floats(mask);
        float[] out = new float[batch * heads * lq * dv];
        double[] p = new double[lk];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int bh = b * heads + h;
                for (int i = 0; i < lq; i++) {
                    for (int j = 0; j < lk; j++) {
                        double dot = 0;
                        for (int t = 0; t < d; t++) {
                            dot += (double) qv[(bh * lq + i) * d + t] * kv[(bh * lk + j) * d + t];
                        }
                        p[j] = scale * dot;
                        if (mv != null) {
                            p[j] += mv[Math.toIntExact(b * maskStrides[0] + h * maskStrides[1] + i * maskStrides[2]
                                    + j * maskStrides[3])];
                        }
                    }
                    softmaxInPlace(p, lk);
                    for (int t = 0; t < dv; t++) {
                        double acc = 0;
                        for (int j = 0; j < lk; j++) {
                            acc += p[j] * vv[(bh * lk + j) * dv + t];
                        }
                        out[(bh * lq + i) * dv + t] = (float) acc;
                    }
                }
            }
        }
        return result(out, at.out());
    }

    // ---------------------------------------------------------------- element-wise

    @Override
    public Tensor unary(UnaryOp op, Tensor x, float param) {
        float[] xv = floats(x);
        float[] out = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            out[i] = (float) apply(op, xv[i], param);
        }
        return result(out, x.shape());
    }

    /** The op in double precision. */
    static double apply(UnaryOp op, double x, double param) {
        return switch (op) {
            case SILU -> x / (1 + Math.exp(-x));
            case GELU -> gelu(x);
            case RELU -> Math.max(x, 0); // NaN stays NaN, as in torch
            case LEAKY_RELU -> x >= 0 ? x : param * x;
            case TANH -> Math.tanh(x);
            case EXP -> Math.exp(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case NEG -> -x;
            case SQRT -> Math.sqrt(x);
        };
    }

    private static final double SQRT2 = Math.sqrt(2);

    /**
     * Exact GELU, {@code x * Phi(x)}. For negative x it uses erfc directly, which keeps full
     * relative precision in the far tail where {@code 1 + erf} would cancel.
     */
    static double gelu(double x) {
        double z = x / SQRT2;
        return x >= 0 ? 0.5 * x * (1 + erf(z)) : 0.5 * x * erfc(-z);
    }

    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

    /** Below this the series is used, above it the continued fraction (both converged there). */
    private static final double SERIES_LIMIT = 1.5;

    /** The error function, accurate to about 1e-15 absolute. */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r = ax < SERIES_LIMIT ? erfSeries(ax) : 1 - erfcContinuedFraction(ax);
        return Math.copySign(r, x);
    }

    /** The complementary error function, accurate to about 1e-13 relative for x >= 0. */
    static double erfc(double x) {
        if (x < 0) {
            return 2 - erfc(-x);
        }
        return x < SERIES_LIMIT ? 1 - erfSeries(x) : erfcContinuedFraction(x);
    }

    /**
     * {@code erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))}: every term
     * is positive, so nothing cancels (used for 0 <= x < 1.5, where it needs under 50 terms).
     */
    private static double erfSeries(double x) {
        double term = x;
        double sum = x;
        for (int n = 1; n < 200 && term > 1e-17 * sum; n++) {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
    }

    /**
     * {@code erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))}, evaluated
     * bottom-up from a fixed depth; for x >= 1.5 it has converged to double precision by then.
     */
    private static double erfcContinuedFraction(double x) {
        double t = x;
        for (int n = 120; n >= 1; n--) {
            t = x + n / 2.0 / t;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / t;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        OpShapes.Broadcast bc = OpShapes.broadcast(op, a, b);
        Shape outShape = bc.out();
        int rank = outShape.rank();
        int[] outDims = outShape.dims();
        long[] sa = bc.stridesA();
        long[] sb = bc.stridesB();
        float[] av = floats(a);
        float[] bv = floats(b);
        float[] out = new float[Math.toIntExact(outShape.numel())];
        int[] idx = new int[rank];
        for (int i = 0; i < out.length; i++) {
            long oa = 0;
            long ob = 0;
            for (int d = 0; d < rank; d++) {
                oa += idx[d] * sa[d];
                ob += idx[d] * sb[d];
            }
            out[i] = op.apply(av[(int) oa], bv[(int) ob]);
            for (int d = rank - 1; d >= 0 && ++idx[d] == outDims[d]; d--) {
                idx[d] = 0;
            }
        }
        return result(out, outShape);
    }

    @Override
    public Tensor scalar(BinaryOp op, Tensor x, float s) {
        float[] xv = floats(x);
        float[] out = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            out[i] = op.apply(xv[i], s);
        }
        return result(out, x.shape());
    }

    // ---------------------------------------------------------------- reductions

    @Override
    public Tensor sum(Tensor x, int dim, boolean keepDim) {
        return reduce(x, dim, keepDim, false);
    }

    @Override
    public Tensor mean(Tensor x, int dim, boolean keepDim) {
        return reduce(x, dim, keepDim, true);
    }

    private Tensor reduce(Tensor x, int dim, boolean keepDim, boolean mean) {
        int d = x.shape().axis(dim);
        int outer = Math.toIntExact(x.shape().outer(d));
        int n = x.dim(d);
        int inner = Math.toIntExact(x.shape().inner(d));
        float[] xv = floats(x);
        float[] out = new float[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double acc = 0;
                for (int j = 0; j < n; j++) {
                    acc += xv[(o * n + j) * inner + i];
                }
                out[o * inner + i] = (float) (mean ? acc / n : acc);
            }
        }
        return result(out, OpShapes.reduced(x.shape(), d, keepDim));
    }

    @Override
    public Tensor l2Normalize(Tensor x, float eps) {
        int d = OpShapes.lastDim("l2Normalize", x);
        float[] xv = floats(x);
        float[] out = new float[xv.length];
        for (int base = 0; base < xv.length; base += d) {
            double sq = 0;
            for (int i = 0; i < d; i++) {
                sq += (double) xv[base + i] * xv[base + i];
            }
            double denom = Math.max(Math.sqrt(sq), eps);
            for (int i = 0; i < d; i++) {
                out[base + i] = (float) (xv[base + i] / denom);
            }
        }
        return result(out, x.shape());
    }

    // ---------------------------------------------------------------- gated activation (Stable Audio DiT)

    /** As the composed ops round: silu(gate) in double, to float, then the float product. */
    @Override
    public Tensor swiglu(Tensor x) {
        int n = OpShapes.swiglu(x);
        float[] xv = floats(x);
        int rows = xv.length / (2 * n);
        float[] out = new float[rows * n];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                float g = xv[r * 2 * n + n + j];
                float s = (float) apply(UnaryOp.SILU, g, 0);
                out[r * n + j] = xv[r * 2 * n + j] * s;
            }
        }
        int[] dims = x.shape().dims();
        dims[dims.length - 1] = n;
        return result(out, Shape.of(dims));
    }

    // ---------------------------------------------------------------- audio activations (Stable Audio)

    @Override
    public Tensor snake(Tensor x, Tensor alpha, Tensor invBeta) {
        OpShapes.snake(x, alpha, invBeta);
        float[] xv = floats(x);
        float[] a = floats(alpha);
        float[] ib = floats(invBeta);
        int channels = x.dim(1);
        int length = x.dim(2);
        float[] out = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            int c = (i / length) % channels;
            float s = (float) Math.sin(a[c] * xv[i]);
            out[i] = xv[i] + ib[c] * (s * s);
        }
        return result(out, x.shape());
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        int d = OpShapes.rmsNorm(x, weight);
        float[] xv = floats(x);
        float[] w = floats(weight);
        float[] out = new float[xv.length];
        for (int base = 0; base < xv.length; base += d) {
            double sq = 0;
            for (int i = 0; i < d; i++) {
                sq += (double) xv[base + i] * xv[base + i];
            }
            float inv = (float) (1 / Math.sqrt((float) (sq / d) + eps));
            for (int i = 0; i < d; i++) {
                out[base + i] = w[i] * (xv[base + i] * inv);
            }
        }
        return result(out, x.shape());
    }

    @Override
    public Tensor rotary(Tensor x, Tensor cos, Tensor sin) {
        int r = OpShapes.rotary(x, cos, sin);
        float[] xv = floats(x);
        float[] c = floats(cos);
        float[] s = floats(sin);
        int d = x.dim(3);
        int length = x.dim(2);
        int half = r / 2;
        float[] out = new float[xv.length];
        for (int base = 0, row = 0; base < xv.length; base += d, row++) {
            int l = row % length;
            for (int j = 0; j < d; j++) {
                float v = xv[base + j];
                if (j < half) {
                    out[base + j] = v * c[l * r + j] + -xv[base + j + half] * s[l * r + j];
                } else if (j < r) {
                    out[base + j] = v * c[l * r + j] + xv[base + j - half] * s[l * r + j];
                } else {
                    out[base + j] = v;
                }
            }
        }
        return result(out, x.shape());
    }

    // ---------------------------------------------------------------- fixed-kernel 2x resampling (Dance Diffusion)

    @Override
    public Tensor downsample1d(Tensor x, Tensor kernel) {
        OpShapes.Resample1d g = OpShapes.downsample1d(x, kernel);
        float[] xv = floats(x);
        float[] kv = floats(kernel);
        float[] out = new float[g.rows() * g.outLength()];
        for (int r = 0; r < g.rows(); r++) {
            int in = r * g.length();
            for (int o = 0; o < g.outLength(); o++) {
                double acc = 0;
                for (int j = 0; j < g.k(); j++) {
                    acc += (double) kv[j] * xv[in + reflect(2 * o + j - g.pad(), g.length())];
                }
                out[r * g.outLength() + o] = (float) acc;
            }
        }
        return result(out, Shape.of(x.dim(0), x.dim(1), g.outLength()));
    }

    @Override
    public Tensor upsample1d(Tensor x, Tensor kernel) {
        OpShapes.Resample1d g = OpShapes.upsample1d(x, kernel);
        float[] xv = floats(x);
        float[] kv = floats(kernel);
        int padded = g.length() + 2 * g.pad();
        int crop = g.k() - 1; // the transposed convolution's padding 2 (k/2 - 1) + 1
        float[] out = new float[g.rows() * g.outLength()];
        for (int r = 0; r < g.rows(); r++) {
            int in = r * g.length();
            for (int n = 0; n < g.outLength(); n++) {
                double acc = 0;
                for (int j = 0; j < g.k(); j++) {
                    int m = n + crop - j; // = 2 i for the padded input position i feeding tap j
                    if (m >= 0 && m % 2 == 0 && m / 2 < padded) {
                        acc += (double) kv[j] * xv[in + reflect(m / 2 - g.pad(), g.length())];
                    }
                }
                out[r * g.outLength() + n] = (float) acc;
            }
        }
        return result(out, Shape.of(x.dim(0), x.dim(1), g.outLength()));
    }

    /** torch's reflect padding: index -1 reads 1, index len reads len - 2 (pads are below len). */
    private static int reflect(int i, int len) {
        return i < 0 ? -i : i >= len ? 2 * (len - 1) - i : i;
    }

    // ---------------------------------------------------------------- helpers

    /** Wraps {@code data} (not copied) as a new F32 tensor owned by the current scope. */
    private Tensor result(float[] data, Shape shape) {
        OpShapes.fromArray(data.length, shape);
        return Tensor.owning(this, HostStorage.wrap(data), shape, DType.F32, null);
    }
}
