package org.euterpe.pipeline.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * Linear multistep (diffusers' LMSDiscreteScheduler), order 4: the next sample is the current
 * one plus the integral, over [sigma_i, sigma_i+1], of the Lagrange polynomial through the last
 * derivatives.
 */
public final class LmsDiscreteScheduler extends SigmaScheduler {
    private static final int ORDER = 4;
    private final List<float[]> derivatives = new ArrayList<>();

    public LmsDiscreteScheduler(SchedulerConfig config) {
        super(config);
    }

    @Override
    public void setTimesteps(int n) {
        computeSigmas(n);
        derivatives.clear();
    }

    @Override
    public float[] step(float[] modelOutput, int index, float[] sample, NoiseSource noise) {
        checkIndex(index, timesteps.length);
        float sigma = sigmas[index];
        float[] x0 = predictOriginal(modelOutput, sample, sigma);
        int n = sample.length;
        float[] derivative = new float[n];
        for (int i = 0; i < n; i++) {
            derivative[i] = (sample[i] - x0[i]) / sigma;
        }
        derivatives.add(derivative);
        if (derivatives.size() > ORDER) {
            derivatives.remove(0);
        }
        int order = Math.min(index + 1, ORDER);
        // sample + sum(coeff_k * derivative_k), newest derivative first, summed left to right.
        float[] sum = new float[n];
        for (int k = 0; k < order; k++) {
            float coeff = (float) lmsCoefficient(order, index, k);
            float[] d = derivatives.get(derivatives.size() - 1 - k);
            for (int i = 0; i < n; i++) {
                sum[i] = k == 0 ? coeff * d[i] : sum[i] + coeff * d[i];
            }
        }
        float[] prev = new float[n];
        for (int i = 0; i < n; i++) {
            prev[i] = sample[i] + sum[i];
        }
        return prev;
    }

    /**
     * The integral over [sigma_t, sigma_t+1] of the Lagrange basis polynomial of node
     * {@code current} among the nodes sigma_t, sigma_t-1, ... The polynomial has degree < 4, so
     * 4-point Gauss-Legendre integrates it exactly (the reference uses adaptive quadrature).
     */
    private double lmsCoefficient(int order, int t, int current) {
        double a = sigmas[t];
        double b = sigmas[t + 1];
        double[] nodes = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526};
        double[] weights = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538};
        double half = (b - a) / 2;
        double mid = (a + b) / 2;
        double total = 0;
        for (int q = 0; q < nodes.length; q++) {
            double tau = mid + half * nodes[q];
            double prod = 1.0;
            for (int k = 0; k < order; k++) {
                if (k != current) {
                    prod *= (tau - sigmas[t - k]) / (sigmas[t - current] - sigmas[t - k]);
                }
            }
            total += weights[q] * prod;
        }
        return total * half;
    }
}
