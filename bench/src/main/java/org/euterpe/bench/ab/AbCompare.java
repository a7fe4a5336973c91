package org.euterpe.bench.ab;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A/B of two builds in one JVM: each class path gets its own class loader (so both builds' classes
 * coexist, each JIT-compiled on its own), and their passes alternate, A B, B A, ..., so that load
 * from other processes falls on both alike. Prints, per case, each build's best time, the ratio of
 * the bests and the median of the per-round ratios (B over A; below 1 means B is faster).
 *
 * <p>Usage: {@code AbCompare classPathA classPathB rounds passClass passArgs...}; the pass class
 * (e.g. {@link CpuOpCases}) has {@code public static Map<String, Double> pass(String[])}.
 */
public final class AbCompare {
    private AbCompare() {
    }

    public static void main(String[] a) throws Exception {
        if (a.length < 4) {
            System.err.println("usage: AbCompare classPathA classPathB rounds passClass [passArgs...]");
            System.exit(2);
        }
        Method[] pass = new Method[2];
        for (int v = 0; v < 2; v++) {
            List<URL> urls = new ArrayList<>();
            for (String p : a[v].split(File.pathSeparator)) {
                urls.add(new File(p).toURI().toURL());
            }
            ClassLoader cl = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
            pass[v] = cl.loadClass(a[3]).getMethod("pass", String[].class);
        }
        int rounds = Integer.parseInt(a[2]);
        String[] args = Arrays.copyOfRange(a, 4, a.length);
        List<Map<String, List<Double>>> times = List.of(new LinkedHashMap<>(), new LinkedHashMap<>());
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < 2; i++) {
                int v = r % 2 == 0 ? i : 1 - i;
                @SuppressWarnings("unchecked")
                Map<String, Double> m = (Map<String, Double>) pass[v].invoke(null, (Object) args);
                m.forEach((k, t) -> times.get(v).computeIfAbsent(k, x -> new ArrayList<>()).add(t));
            }
        }
        for (String k : times.get(0).keySet()) {
            List<Double> ta = times.get(0).get(k);
            List<Double> tb = times.get(1).get(k);
            double[] ratios = new double[ta.size()];
            for (int i = 0; i < ratios.length; i++) {
                ratios[i] = tb.get(i) / ta.get(i);
            }
            Arrays.sort(ratios);
            double bestA = ta.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            double bestB = tb.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            System.out.printf("%-34s A %9.3f ms  B %9.3f ms  B/A best %.3f  median of rounds %.3f%n", k, bestA, bestB,
                    bestB / bestA, ratios[ratios.length / 2]);
        }
    }
}
