package org.euterpe.pipeline.scheduler;

/**
 * The k-diffusion family (LMS, Euler, Euler ancestral, Heun): they step in sigma space,
 * {@code sigma = sqrt((1 - alphaCumprod) / alphaCumprod)}, scale the U-Net input by
 * {@code 1 / sqrt(sigma^2 + 1)} and call the U-Net at float timesteps.
 */
abstract class SigmaScheduler extends Scheduler {
    /** Sigmas of the training schedule, float32, ascending in t. */
    protected final float[] trainSigmas;
    protected float[] timesteps = new float[0];
    /** Per inference step, plus a final 0. */
    protected float[] sigmas = new float[0];

    SigmaScheduler(SchedulerConfig config) {
        super(config);
        trainSigmas = new float[alphasCumprod.length];
        for (int i = 0; i < trainSigmas.length; i++) {
            trainSigmas[i] = sqrt((1 - alphasCumprod[i]) / alphasCumprod[i]);
        }
    }

    /**
     * Computes float32 timesteps and sigmas (interpolated, or Karras) for {@code n} steps; the
     * sigmas get a trailing 0.
     */
    protected void computeSigmas(int n) {
        checkSteps(n);
        double[] t = spacedTimesteps(n);
        float[] ts = new float[n];
        for (int i = 0; i < n; i++) {
            ts[i] = (float) t[i];
        }
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = interp(ts[i], trainSigmas);
        }
        if (config.useKarrasSigmas()) {
            s = karras(s[n - 1], s[0], n);
            double[] logSigmas = new double[trainSigmas.length];
            for (int i = 0; i < logSigmas.length; i++) {
                logSigmas[i] = Math.log(trainSigmas[i]);
            }
            for (int i = 0; i < n; i++) {
                ts[i] = (float) sigmaToT(s[i], logSigmas);
            }
        }
        sigmas = new float[n + 1];
        for (int i = 0; i < n; i++) {
            sigmas[i] = (float) s[i];
        }
        sigmas[n] = 0f;
        timesteps = ts;
    }

    /** numpy.interp at x over the points (i, fp[i]). */
    static double interp(double x, float[] fp) {
        if (x <= 0) {
            return fp[0];
        }
        if (x >= fp.length - 1) {
            return fp[fp.length - 1];
        }
        int j = (int) Math.floor(x);
        if (x == j) {
            return fp[j];
        }
        double slope = ((double) fp[j + 1] - fp[j]) / 1.0;
        return slope * (x - j) + fp[j];
    }

    /** Karras et al. (2022) sigmas between sigmaMin and sigmaMax, rho 7, in double. */
    static double[] karras(double sigmaMin, double sigmaMax, int n) {
        double rho = 7.0;
        double minInv = Math.pow(sigmaMin, 1 / rho);
        double maxInv = Math.pow(sigmaMax, 1 / rho);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double ramp = n == 1 ? 0 : (i == n - 1 ? 1.0 : i * (1.0 / (n - 1)));
            out[i] = Math.pow(maxInv + ramp * (minInv - maxInv), rho);
        }
        return out;
    }

    /** The fractional training timestep of a sigma, interpolating log-sigmas as the reference does. */
    static double sigmaToT(double sigma, double[] logSigmas) {
        double logSigma = Math.log(sigma);
        int count = 0;
        for (double ls : logSigmas) {
            if (logSigma - ls >= 0) {
                count++;
            }
        }
        // argmax of the cumulative sum of (dists >= 0): the last index where dists >= 0.
        int low = 0;
        int running = 0;
        for (int i = 0; i < logSigmas.length; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                running++;
                if (running == count) {
                    low = i;
                    break;
                }
            }
        }
        low = Math.min(low, logSigmas.length - 2);
        int high = low + 1;
        double w = (logSigmas[low] - logSigma) / (logSigmas[low] - logSigmas[high]);
        w = Math.max(0, Math.min(1, w));
        return (1 - w) * low + w * high;
    }

    /** Sigma samplers: {@code x0 + sigma noise}, the sigma the sample has entering step {@code index}. */
    @Override
    public float[] addNoise(float[] original, float[] noise, int index) {
        double[] ts = timesteps();
        if (index == ts.length) {
            return original.clone();
        }
        checkIndex(index, ts.length);
        float sigma = inputSigma(index);
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = original[i] + sigma * noise[i];
        }
        return out;
    }

    @Override
    public float initNoiseSigma() {
        float max = 0;
        for (float s : sigmas) {
            max = Math.max(max, s);
        }
        if (config.timestepSpacing().equals("linspace") || config.timestepSpacing().equals("trailing")) {
            return max;
        }
        return sqrt(max * max + 1);
    }

    @Override
    public double[] timesteps() {
        return widen(timesteps);
    }

    @Override
    public boolean integerTimesteps() {
        return false;
    }

    @Override
    public float[] sigmas() {
        return sigmas.clone();
    }

    /** The sigma the U-Net input is scaled by at step {@code index}. */
    protected float inputSigma(int index) {
        return sigmas[index];
    }

    @Override
    public float[] scaleModelInput(float[] sample, int index) {
        checkIndex(index, timesteps.length);
        float sigma = inputSigma(index);
        float d = sqrt(sigma * sigma + 1);
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sample[i] / d;
        }
        return out;
    }

    /** The denoised estimate x0 for the prediction type, at {@code sigma}. */
    protected float[] predictOriginal(float[] modelOutput, float[] sample, float sigma) {
        int n = sample.length;
        float[] x0 = new float[n];
        switch (config.predictionType()) {
            case "epsilon" -> {
                for (int i = 0; i < n; i++) {
                    x0[i] = sample[i] - sigma * modelOutput[i];
                }
            }
            case "v_prediction" -> {
                float c = -sigma / sqrt(sigma * sigma + 1);
                float d = sigma * sigma + 1;
                for (int i = 0; i < n; i++) {
                    x0[i] = modelOutput[i] * c + sample[i] / d;
                }
            }
            default -> System.arraycopy(modelOutput, 0, x0, 0, n);
        }
        return x0;
    }
}
