package org.euterpe.pipeline.server;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/** The server's counters, written as Prometheus text (exposition format 0.0.4) by {@link #write}. */
public final class Metrics {
    /** Upper bounds of the step latency buckets, seconds. */
    static final double[] STEP_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    final AtomicLong submitted = new AtomicLong();
    final AtomicLong rejectedFull = new AtomicLong();
    final AtomicLong bytesOut = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    private final AtomicLongArray stepBuckets = new AtomicLongArray(STEP_BUCKETS.length + 1);
    private final DoubleAdder stepSum = new DoubleAdder();
    private final AtomicLong stepCount = new AtomicLong();
    final Map<Job.State, AtomicLong> finished = new java.util.EnumMap<>(Job.State.class);

    public Metrics() {
        for (Job.State s : Job.State.values()) {
            finished.put(s, new AtomicLong());
        }
    }

    void step(double seconds) {
        int i = 0;
        while (i < STEP_BUCKETS.length && seconds > STEP_BUCKETS[i]) {
            i++;
        }
        stepBuckets.incrementAndGet(i);
        stepSum.add(seconds);
        stepCount.incrementAndGet();
    }

    /**
     * @param byState jobs held now, by state
     */
    String write(Map<Job.State, Integer> byState, int queueDepth, int queueCapacity, int workers, int busy,
            boolean ready) {
        StringBuilder sb = new StringBuilder();
        sb.append("# HELP euterpe_jobs Jobs the server holds now, by state.\n# TYPE euterpe_jobs gauge\n");
        for (Job.State s : Job.State.values()) {
            sb.append("euterpe_jobs{state=\"").append(s.json()).append("\"} ").append(byState.getOrDefault(s, 0))
                    .append('\n');
        }
        sb.append("# HELP euterpe_jobs_finished_total Jobs that reached a final state since start.\n")
                .append("# TYPE euterpe_jobs_finished_total counter\n");
        for (Job.State s : Job.State.values()) {
            if (s.terminal()) {
                sb.append("euterpe_jobs_finished_total{state=\"").append(s.json()).append("\"} ")
                        .append(finished.get(s).get()).append('\n');
            }
        }
        gauge(sb, "euterpe_queue_depth", "Jobs waiting for a worker.", queueDepth);
        gauge(sb, "euterpe_queue_capacity", "Most jobs that may wait.", queueCapacity);
        gauge(sb, "euterpe_workers", "Generation workers (one pipeline each).", workers);
        gauge(sb, "euterpe_workers_busy", "Workers generating now.", busy);
        gauge(sb, "euterpe_ready", "1 when the server takes new jobs.", ready ? 1 : 0);
        counter(sb, "euterpe_jobs_submitted_total", "Jobs accepted.", submitted.get());
        counter(sb, "euterpe_jobs_rejected_total", "Jobs refused with 429 because the queue was full.",
                rejectedFull.get());
        counter(sb, "euterpe_http_requests_total", "HTTP requests answered.", requests.get());
        counter(sb, "euterpe_response_bytes_total", "Response body bytes sent.", bytesOut.get());
        sb.append("# HELP euterpe_step_seconds Time per denoising step.\n# TYPE euterpe_step_seconds histogram\n");
        long cumulative = 0;
        for (int i = 0; i <= STEP_BUCKETS.length; i++) {
            cumulative += stepBuckets.get(i);
            String le = i < STEP_BUCKETS.length ? trim(STEP_BUCKETS[i]) : "+Inf";
            sb.append("euterpe_step_seconds_bucket{le=\"").append(le).append("\"} ").append(cumulative).append('\n');
        }
        sb.append("euterpe_step_seconds_sum ").append(String.format(Locale.ROOT, "%.6f", stepSum.sum())).append('\n');
        sb.append("euterpe_step_seconds_count ").append(stepCount.get()).append('\n');
        return sb.toString();
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static void gauge(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(v).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name)
                .append(" counter\n").append(name).append(' ').append(v).append('\n');
    }
}
