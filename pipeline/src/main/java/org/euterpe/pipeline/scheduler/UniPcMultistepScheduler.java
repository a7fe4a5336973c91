package org.euterpe.pipeline.scheduler;

import java.util.Arrays;
import java.util.Set;

/**
 * UniPC (diffusers' UniPCMultistepScheduler, Zhao et al. 2023): a multistep predictor (UniP) of
 * order {@code solver_order} and a corrector (UniC) that raises the order by one at no extra
 * U-Net call. The corrector needs the model output at the predicted sample, so it runs at the
 * start of the NEXT step: step k first corrects the sample step k-1 predicted (unless
 * {@code k-1} is in {@code disable_corrector}), then predicts from the corrected sample.
 *
 * <p>Both updates work in {@code lambda = log(alpha_t / sigma_t)} on the data prediction x0
 * ({@code predict_x0}, the default) or on the noise prediction, with the B(h) of
 * {@code solver_type} ({@code bh1}: {@code B(h) = h}; {@code bh2}: {@code B(h) = e^h - 1}).
 * Orders above 2 solve a small Vandermonde-like system for their weights, as the reference does,
 * in float32.
 */
public final class UniPcMultistepScheduler extends MultistepScheduler {
    private final boolean bh1;
    private final boolean predictX0;
    /** History of the last {@code solver_order} converted outputs and their timesteps, oldest first. */
    private float[][] modelOutputs;
    private int[] timestepList;
    /** The sample the last prediction started from (after its correction), for the next UniC. */
    private float[] lastSample;
    private int thisOrder;
    private int lowerOrderNums;

    public UniPcMultistepScheduler(SchedulerConfig config) {
        super(config);
        String type = config.solverType();
        if (!Set.of("bh1", "bh2", "midpoint", "heun", "logrho").contains(type)) {
            throw new IllegalArgumentException("unsupported solver_type " + type + " for UniPC (supported: bh1, bh2)");
        }
        // The reference treats the DPM-Solver solver types as bh2 (so DPM configs load).
        bh1 = type.equals("bh1");
        if (config.solverOrder() < 1) {
            throw new IllegalArgumentException("solver_order must be >= 1, got " + config.solverOrder());
        }
        predictX0 = config.predictX0();
    }

    @Override
    public void setTimesteps(int n) {
        computeTimesteps(n, config.numTrainTimesteps());
        modelOutputs = new float[config.solverOrder()][];
        timestepList = new int[config.solverOrder()];
        lastSample = null;
        thisOrder = 0;
        lowerOrderNums = 0;
    }

    /** Steps must come in order, {@code index} 0, 1, ..., as the corrector uses the previous one. */
    @Override
    public float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise) {
        checkIndex(index, timesteps.length);
        int t = timesteps[index];
        float[] converted = convertModelOutput(modelOutput, t, sample, predictX0);
        if (index > 0 && lastSample != null && !correctorDisabled(index - 1)) {
            sample = correct(converted, t, lastSample, thisOrder);
        }
        int order = config.solverOrder();
        for (int i = 0; i < order - 1; i++) {
            modelOutputs[i] = modelOutputs[i + 1];
            timestepList[i] = timestepList[i + 1];
        }
        modelOutputs[order - 1] = converted;
        timestepList[order - 1] = t;

        // Lower orders for the final steps (always, unlike DPM-Solver) and while warming up.
        int wanted = config.lowerOrderFinal() ? Math.min(order, timesteps.length - index) : order;
        thisOrder = Math.min(wanted, lowerOrderNums + 1);
        lastSample = sample;
        float[] prev = predict(nextTimestep(index), sample, thisOrder);
        if (lowerOrderNums < order) {
            lowerOrderNums++;
        }
        return prev;
    }

    private boolean correctorDisabled(int index) {
        for (int d : config.disableCorrector()) {
            if (d == index) {
                return true;
            }
        }
        return false;
    }

    /** UniP: the sample at timestep {@code t} from {@code x} at the newest history timestep. */
    private float[] predict(int t, float[] x, int order) {
        Terms k = terms(t, order);
        float[] rhos = switch (order) {
            case 1 -> new float[0];
            case 2 -> new float[] {0.5f};
            default -> solve(k.r, k.b, order - 1);
        };
        return update(k, t, x, rhos.length == 0 ? null : weightedSum(rhos, k.d1s));
    }

    /**
     * UniC: re-does the last prediction, from {@code last} to timestep {@code t}, with
     * {@code modelT} (the converted output at the predicted sample) as one more point.
     */
    private float[] correct(float[] modelT, int t, float[] last, int order) {
        Terms k = terms(t, order);
        float[] rhos = order == 1 ? new float[] {0.5f} : solve(k.r, k.b, order);
        float[] m0 = modelOutputs[modelOutputs.length - 1];
        float rhoT = rhos[order - 1];
        float[] res = order == 1 ? new float[m0.length] : weightedSum(rhos, k.d1s);
        for (int i = 0; i < res.length; i++) {
            res[i] = res[i] + rhoT * (modelT[i] - m0[i]);
        }
        return update(k, t, last, res);
    }

    /**
     * What UniP and UniC share for an update from the newest history timestep {@code s0} to
     * {@code t}: {@code hPhi1 = e^hh - 1} with {@code hh = -h} (x0) or {@code h}, B(h), the
     * scaled differences {@code d1s[i] = (m_{i+1} - m0) / r_i} of the older outputs, and the
     * system {@code r rho = b} with {@code r[i][j] = rk_j^i}.
     */
    private record Terms(int s0, float hPhi1, float bH, float[][] d1s, float[][] r, float[] b) {
    }

    private Terms terms(int t, int order) {
        int newest = modelOutputs.length - 1;
        int s0 = timestepList[newest];
        float[] m0 = modelOutputs[newest];
        float h = lambdaT[t] - lambdaT[s0];
        float[] rks = new float[order];
        float[][] d1s = new float[order - 1][];
        for (int i = 1; i < order; i++) {
            float[] mi = modelOutputs[newest - i];
            float rk = (lambdaT[timestepList[newest - i]] - lambdaT[s0]) / h;
            rks[i - 1] = rk;
            float[] d = new float[m0.length];
            for (int j = 0; j < d.length; j++) {
                d[j] = (mi[j] - m0[j]) / rk;
            }
            d1s[i - 1] = d;
        }
        rks[order - 1] = 1.0f;

        float hh = predictX0 ? -h : h;
        float hPhi1 = expm1(hh);
        float hPhiK = hPhi1 / hh - 1.0f;
        float bH = bh1 ? hh : expm1(hh);
        float[][] r = new float[order][order];
        float[] b = new float[order];
        long factorial = 1;
        for (int i = 1; i <= order; i++) {
            for (int j = 0; j < order; j++) {
                r[i - 1][j] = pow(rks[j], i - 1);
            }
            b[i - 1] = hPhiK * (float) factorial / bH;
            factorial *= i + 1;
            hPhiK = hPhiK / hh - (float) (1.0 / factorial);
        }
        return new Terms(s0, hPhi1, bH, d1s, r, b);
    }

    /** {@code c1 x - c2 m0 - c3 res}, the B(h) update; {@code res} null means no correction term. */
    private float[] update(Terms k, int t, float[] x, float[] res) {
        int s0 = k.s0;
        float[] m0 = modelOutputs[modelOutputs.length - 1];
        float c1 = predictX0 ? sigmaT[t] / sigmaT[s0] : alphaT[t] / alphaT[s0];
        float scale = predictX0 ? alphaT[t] : sigmaT[t];
        float c2 = scale * k.hPhi1;
        float c3 = scale * k.bH;
        float[] out = new float[x.length];
        for (int i = 0; i < out.length; i++) {
            float base = c1 * x[i] - c2 * m0[i];
            out[i] = res == null ? base : base - c3 * res[i];
        }
        return out;
    }

    /** {@code sum_k rhos[k] * d1s[k]} over the first {@code d1s.length} weights. */
    private static float[] weightedSum(float[] rhos, float[][] d1s) {
        float[] out = new float[d1s[0].length];
        for (int k = 0; k < d1s.length; k++) {
            for (int i = 0; i < out.length; i++) {
                out[i] = k == 0 ? rhos[0] * d1s[0][i] : out[i] + rhos[k] * d1s[k][i];
            }
        }
        return out;
    }

    /**
     * Solves the leading {@code n x n} block of {@code a} against {@code b}, in float32, by LU
     * with partial pivoting as LAPACK's sgesv (multipliers scaled by the reciprocal pivot).
     */
    static float[] solve(float[][] a, float[] b, int n) {
        float[][] lu = new float[n][];
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            lu[i] = Arrays.copyOf(a[i], n);
            x[i] = b[i];
        }
        for (int k = 0; k < n; k++) {
            int p = k;
            for (int i = k + 1; i < n; i++) {
                if (Math.abs(lu[i][k]) > Math.abs(lu[p][k])) {
                    p = i;
                }
            }
            if (lu[p][k] == 0f) {
                throw new IllegalStateException("UniPC: singular system for the order-" + n
                        + " weights (repeated timesteps?)");
            }
            float[] row = lu[p];
            lu[p] = lu[k];
            lu[k] = row;
            float xp = x[p];
            x[p] = x[k];
            x[k] = xp;
            float inv = 1.0f / lu[k][k];
            for (int i = k + 1; i < n; i++) {
                lu[i][k] *= inv;
                for (int j = k + 1; j < n; j++) {
                    lu[i][j] -= lu[i][k] * lu[k][j];
                }
            }
        }
        for (int k = 0; k < n; k++) {
            for (int i = k + 1; i < n; i++) {
                x[i] -= lu[i][k] * x[k];
            }
        }
        for (int k = n - 1; k >= 0; k--) {
            x[k] /= lu[k][k];
            for (int i = 0; i < k; i++) {
                x[i] -= x[k] * lu[i][k];
            }
        }
        return x;
    }

    /** torch.pow(x, e) for a float tensor and a small integer exponent (0..3 exact products). */
    private static float pow(float x, int e) {
        return switch (e) {
            case 0 -> 1.0f;
            case 1 -> x;
            case 2 -> x * x;
            case 3 -> x * x * x;
            default -> (float) Math.pow(x, e);
        };
    }

    private static float expm1(float x) {
        return (float) Math.expm1(x);
    }
}
