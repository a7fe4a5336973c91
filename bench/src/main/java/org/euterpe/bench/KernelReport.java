package org.euterpe.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.euterpe.tensor.json.Json;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the kernel benchmarks, measures OpenBLAS sgemm (numpy) on the same GEMM shapes in the
 * same run, and writes {@code bench/results/cpu-<date>.json}.
 *
 * <p>Usage: {@code java -jar euterpe-bench.jar [regex] [--out DIR] [--threads N] [--quick]}.
 */
public final class KernelReport {
    private KernelReport() {
    }

    public static void main(String[] args) throws Exception {
        String include = KernelBench.class.getSimpleName();
        Path outDir = Path.of("bench/results");
        int threads = 2;
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> outDir = Path.of(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                default -> include = KernelBench.class.getSimpleName() + "." + args[i];
            }
        }
        OptionsBuilder ob = new OptionsBuilder();
        ob.include(include).param("threads", String.valueOf(threads));
        if (quick) {
            ob.warmupIterations(1).measurementIterations(2);
        }
        Options opts = ob.build();
        Collection<RunResult> results = new Runner(opts).run();

        List<Object> rows = new ArrayList<>();
        Map<String, Double> gemmEuterpe = new LinkedHashMap<>();
        for (RunResult r : results) {
            String label = r.getParams().getBenchmark();
            String bench = label.substring(label.lastIndexOf('.') + 1);
            String param = r.getParams().getParamsKeys().stream()
                    .filter(k -> !k.equals("threads")).map(k -> r.getParams().getParam(k)).findFirst().orElse("");
            // Best iteration, like OpenBLAS's best-of-7 below: on a shared machine the minimum is
            // the least disturbed figure; the mean is kept beside it.
            double ms = r.getPrimaryResult().getStatistics().getMin();
            double mean = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            double gflop = KernelBench.gflop(bench, param);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("benchmark", bench);
            row.put("shape", param);
            row.put("ms", ms);
            row.put("ms_mean", mean);
            row.put("ms_mean_error", Double.isNaN(err) ? 0.0 : err);
            row.put("gflop", gflop);
            row.put("gflops_per_s", gflop / (ms / 1e3));
            rows.add(row);
            if (bench.equals("gemm")) {
                gemmEuterpe.put(param, gflop / (ms / 1e3));
            }
        }

        Map<String, Object> openblas = new LinkedHashMap<>();
        if (!gemmEuterpe.isEmpty()) {
            Map<String, Double> ob2 = openBlasGflops(gemmEuterpe.keySet(), threads);
            for (Map.Entry<String, Double> e : ob2.entrySet()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("openblas_gflops_per_s", e.getValue());
                m.put("euterpe_gflops_per_s", gemmEuterpe.get(e.getKey()));
                m.put("ratio_euterpe_over_openblas", gemmEuterpe.get(e.getKey()) / e.getValue());
                openblas.put(e.getKey(), m);
            }
        }

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", LocalDate.now().toString());
        report.put("machine", machine(threads));
        report.put("method", "JMH average time per iteration; ms and gflops_per_s use the best iteration, and OpenBLAS"
                + " (numpy matmul, same thread count, same run) its best of 7 calls");
        report.put("load_average_at_end", loadAverage());
        report.put("kernels", rows);
        report.put("gemm_vs_openblas", openblas);
        Files.createDirectories(outDir);
        Path out = outDir.resolve("cpu-" + LocalDate.now() + ".json");
        Files.writeString(out, Json.write(report) + "\n");
        System.out.println("wrote " + out);
        for (Object row : rows) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) row;
            System.out.printf("%-14s %-20s %9.2f ms %8.1f GFLOP/s%n", m.get("benchmark"), m.get("shape"),
                    (Double) m.get("ms"), (Double) m.get("gflops_per_s"));
        }
        openblas.forEach((k, v) -> System.out.println("gemm " + k + " vs OpenBLAS: " + v));
    }

    private static Map<String, Object> machine(int threads) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("threads", threads);
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        m.put("vector_bits", jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        return m;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    /**
     * OpenBLAS sgemm GFLOP/s through numpy, best of several runs per shape, with the same thread
     * count; empty when python3 with numpy is not available.
     */
    static Map<String, Double> openBlasGflops(Collection<String> shapes, int threads) {
        Map<String, Double> out = new LinkedHashMap<>();
        String script = String.join("\n",
                "import sys, time, numpy as np",
                "for s in sys.argv[1:]:",
                "    m, n, k = map(int, s.split('x'))",
                "    a = np.random.rand(m, k).astype(np.float32); b = np.random.rand(k, n).astype(np.float32)",
                "    a @ b; best = 1e9",
                "    for _ in range(7):",
                "        t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)",
                "    print(s, 2.0 * m * n * k / best / 1e9)");
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
        cmd.addAll(shapes);
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
            pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
            Process p = pb.start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                System.err.println("OpenBLAS comparison skipped: " + text.strip());
                return out;
            }
            for (String line : text.strip().split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length == 2) {
                    out.put(f[0], Double.parseDouble(f[1]));
                }
            }
        } catch (IOException e) {
            System.err.println("OpenBLAS comparison skipped: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }
}
