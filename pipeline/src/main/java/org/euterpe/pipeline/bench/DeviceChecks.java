package org.euterpe.pipeline.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.euterpe.kernels.Backends;
import org.euterpe.kernels.cuda.CudaBackend;
import org.euterpe.pipeline.AudioModel;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.LatentGeometry;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.RandomModel;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.euterpe.pipeline.WeightResidency;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.json.Json;

/**
 * The device kit's two checks that are not tests of their own (kernels/scripts/device-run.sh runs
 * them; each prints one JSON line last and exits 0 when it passes, 1 when it fails, 2 on bad use):
 *
 * <ul>
 *   <li>{@code agree CONFIG_DIR --device D [--reference R] [--dtype T] [--seconds S]}: one U-Net step
 *       of a full-size model with seeded random weights (CFG batch 2, timestep 500) on the device and
 *       on the reference backend (default cpu), same weights and inputs; passes when the relative L2
 *       error is at most {@code --max-rel-l2} (default 1e-3).</li>
 *   <li>{@code leak MODEL_DIR --device D [--runs N] [--seconds S] [--steps K]}: N generations (default
 *       20, each of 2 s at 10 steps) in one pipeline;
 *       passes when the backend's live tensor storages after the last are those after the first
 *       (every activation freed) and, on CUDA, the driver's used memory grew by at most
 *       {@code --max-growth-mib} (default 16) between them. A backend with no device memory (cpu)
 *       reports the Java heap instead and passes on the generations alone.</li>
 * </ul>
 * A device that cannot start fails the check with its reason; nothing falls back to the CPU.
 */
public final class DeviceChecks {
    private DeviceChecks() {
    }

    public static void main(String[] args) throws IOException {
        System.exit(run(args, System.out));
    }

    static int run(String[] args, PrintStream out) throws IOException {
        if (args.length < 2) {
            out.println("usage: DeviceChecks agree CONFIG_DIR --device D [--reference R] [--dtype f32|f16|bf16]"
                    + " [--seconds S] [--max-rel-l2 X]\n       DeviceChecks leak MODEL_DIR --device D [--runs N]"
                    + " [--seconds S] [--steps N] [--max-growth-mib M]");
            return 2;
        }
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                out.println("bad option " + args[i] + " (each option takes a value)");
                return 2;
            }
            opt.put(args[i], args[++i]);
        }
        Path dir = Path.of(args[1]);
        if (!Files.isDirectory(dir)) {
            out.println(dir + " is not a folder");
            return 2;
        }
        if (!args[0].equals("agree") && !args[0].equals("leak")) {
            out.println("unknown check " + args[0] + " (agree or leak)");
            return 2;
        }
        Map<String, Object> report;
        try {
            report = args[0].equals("agree") ? agree(dir, opt, out) : leak(dir, opt, out);
        } catch (RuntimeException e) { // an absent device, a bad option value, a failing op: one line that says so
            report = new LinkedHashMap<>();
            report.put("check", args[0]);
            report.put("pass", false);
            report.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
            e.printStackTrace(out);
        }
        out.println(Json.write(report));
        return Boolean.TRUE.equals(report.get("pass")) ? 0 : 1;
    }

    private static Backend open(String device) {
        Backends.Probe p = Backends.probe(device);
        if (!p.available()) {
            throw new IllegalStateException("device " + device + " unavailable: " + p.reason());
        }
        return p.backend();
    }

    private static DType dtype(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype must be f32, f16 or bf16, got " + s);
        };
    }

    // ---------------------------------------------------------------- agreement

    static Map<String, Object> agree(Path configs, Map<String, String> opt, PrintStream out) throws IOException {
        String device = opt.getOrDefault("--device", "cuda");
        String referenceName = opt.getOrDefault("--reference", "cpu");
        DType dtype = dtype(opt.getOrDefault("--dtype", "f32"));
        double seconds = Double.parseDouble(opt.getOrDefault("--seconds", "10"));
        double maxRelL2 = Double.parseDouble(opt.getOrDefault("--max-rel-l2", "1e-3"));
        long seed = 23;
        LatentGeometry geometry = RandomModel.geometry(configs, seconds);
        int[] lat = geometry.latentShape();
        Shape xShape = Shape.of(2, lat[1], lat[2], lat[3]);
        float[] x = gaussian(new SplittableRandom(seed), Math.toIntExact(xShape.numel()));

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("check", "unet_agreement");
        r.put("model", configs.toString());
        r.put("weights", "random-" + dtype.name().toLowerCase(Locale.ROOT));
        r.put("input", List.of(2, lat[1], lat[2], lat[3]));
        float[][] outputs = new float[2][];
        String[] names = {device, referenceName};
        for (int i = 0; i < 2; i++) {
            Backend backend = open(names[i]);
            r.put(i == 0 ? "device" : "reference", backend.description());
            try (AudioModel model = RandomModel.build(configs, backend, dtype, seed, Set.of("unet"));
                    Scope _ = Scope.open()) {
                int labelDim = model.unet().classEmbeddingInputDim();
                Tensor labels = null;
                if (labelDim > 0) {
                    float[] l = gaussian(new SplittableRandom(seed + 1), 2 * labelDim);
                    normalizeRows(l, labelDim);
                    labels = backend.fromArray(l, Shape.of(2, labelDim));
                }
                Tensor xt = backend.fromArray(x, xShape);
                long t0 = System.nanoTime();
                outputs[i] = model.unet().forward(xt, 500f, null, labels).toFloatArray();
                double s = (System.nanoTime() - t0) / 1e9;
                r.put(i == 0 ? "device_s" : "reference_s", s);
                out.printf(Locale.ROOT, "U-Net step on %s: %.3f s (first call, untimed warm-up included)%n",
                        backend.description(), s);
            }
        }
        double[] e = errors(outputs[1], outputs[0]);
        r.put("rel_l2", e[0]);
        r.put("max_abs", e[1]);
        r.put("max_abs_rel", e[2]);
        r.put("non_finite", (long) e[3]);
        r.put("max_rel_l2", maxRelL2);
        r.put("pass", e[3] == 0 && e[0] <= maxRelL2);
        out.printf(Locale.ROOT, "%s vs %s: rel L2 %.3e, max abs %.3e (%.3e of max |ref|), %d non-finite%n",
                device, referenceName, e[0], e[1], e[2], (long) e[3]);
        return r;
    }

    /** {rel L2 error, max abs error, max abs error / max |ref|, count of non-finite values in got}. */
    static double[] errors(float[] ref, float[] got) {
        if (ref.length != got.length) {
            throw new IllegalStateException("outputs differ in size: " + ref.length + " vs " + got.length);
        }
        double num = 0;
        double den = 0;
        double maxAbs = 0;
        double maxRef = 0;
        long nonFinite = 0;
        for (int i = 0; i < ref.length; i++) {
            if (!Float.isFinite(got[i])) {
                nonFinite++;
                continue;
            }
            double d = (double) got[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
            maxAbs = Math.max(maxAbs, Math.abs(d));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        double relL2 = den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
        return new double[] {relL2, maxAbs, maxRef == 0 ? maxAbs : maxAbs / maxRef, nonFinite};
    }

    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i += 2) { // Box-Muller, two values per pair of uniforms
            double u1 = 1.0 - rng.nextDouble();
            double u2 = rng.nextDouble();
            double m = Math.sqrt(-2 * Math.log(u1));
            v[i] = (float) (m * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) {
                v[i + 1] = (float) (m * Math.sin(2 * Math.PI * u2));
            }
        }
        return v;
    }

    private static void normalizeRows(float[] v, int width) {
        for (int r = 0; r < v.length / width; r++) {
            double s = 0;
            for (int j = 0; j < width; j++) {
                s += (double) v[r * width + j] * v[r * width + j];
            }
            float inv = (float) (1 / Math.max(Math.sqrt(s), 1e-12));
            for (int j = 0; j < width; j++) {
                v[r * width + j] *= inv;
            }
        }
    }

    // ---------------------------------------------------------------- leak

    static Map<String, Object> leak(Path modelDir, Map<String, String> opt, PrintStream out) throws IOException {
        String device = opt.getOrDefault("--device", "cuda");
        int runs = Integer.parseInt(opt.getOrDefault("--runs", "20"));
        double maxGrowthMib = Double.parseDouble(opt.getOrDefault("--max-growth-mib", "16"));
        double seconds = Double.parseDouble(opt.getOrDefault("--seconds", "2"));
        int steps = Integer.parseInt(opt.getOrDefault("--steps", "10"));
        if (runs < 2) {
            throw new IllegalArgumentException("--runs must be at least 2, got " + runs);
        }
        Backend backend = open(device);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("check", "leak");
        r.put("model", modelDir.toString());
        r.put("device", backend.description());
        r.put("runs", runs);
        List<Map<String, Object>> samples = new ArrayList<>();
        samples.add(sample(backend, "before load"));
        GenerationRequest request = GenerationRequest.builder("rain on a tin roof").seconds(seconds).steps(steps).seed(5)
                .build();
        try (TextToAudioPipeline pipe = new TextToAudioPipeline(AudioModel.load(modelDir, backend),
                WeightResidency.DEFAULT)) {
            samples.add(sample(backend, "after load"));
            for (int i = 1; i <= runs; i++) {
                long t0 = System.nanoTime();
                pipe.generate(request, ProgressListener.NONE);
                out.printf(Locale.ROOT, "generation %d of %d: %.2f s%n", i, runs, (System.nanoTime() - t0) / 1e9);
                if (i == 1 || i == runs) {
                    samples.add(sample(backend, "after generation " + i));
                }
            }
        }
        samples.add(sample(backend, "after close"));
        r.put("samples", samples);
        for (Map<String, Object> s : samples) {
            out.println("leak: " + s);
        }
        Map<String, Object> first = samples.get(2);
        Map<String, Object> last = samples.get(3);
        boolean pass;
        if (first.containsKey("live_buffers")) {
            long growth = (long) last.getOrDefault("device_used_bytes", 0L)
                    - (long) first.getOrDefault("device_used_bytes", 0L);
            r.put("device_used_growth_mib", growth / 1048576.0);
            r.put("max_growth_mib", maxGrowthMib);
            pass = first.get("live_buffers").equals(last.get("live_buffers"))
                    && first.get("live_bytes").equals(last.get("live_bytes"))
                    && growth <= maxGrowthMib * 1048576
                    && samples.getLast().get("live_buffers").equals(samples.getFirst().get("live_buffers"));
        } else {
            r.put("note", backend.name() + " has no device memory: the heap is reported, and the check passes"
                    + " on the " + runs + " generations completing");
            pass = true;
        }
        r.put("pass", pass);
        return r;
    }

    private static Map<String, Object> sample(Backend backend, String when) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("when", when);
        if (backend instanceof CudaBackend cuda) {
            s.put("live_buffers", (long) cuda.liveBuffers());
            s.put("live_bytes", cuda.liveBytes());
            long[] mem = cuda.deviceMemory();
            if (mem != null) {
                s.put("device_used_bytes", mem[1] - mem[0]);
                s.put("device_total_bytes", mem[1]);
            }
        } else {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            Runtime rt = Runtime.getRuntime();
            s.put("heap_used_bytes", rt.totalMemory() - rt.freeMemory());
        }
        return s;
    }
}
